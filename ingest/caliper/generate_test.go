package caliper

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/lrs-dev/lrs/internal/fixture"
)

// TestGeneratedTablesCurrent regenerates caliper_schema.go from the schema and
// context in the reference fixtures (internal/fixture) and checks the committed file is what comes out.
func TestGeneratedTablesCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator")
	}
	schema := fixture.Path(t, "caliper/json-schema-v1p2")
	context := fixture.Path(t, "caliper/contexts/caliper-v1p2.jsonld")
	out := filepath.Join(t.TempDir(), "caliper_schema.go")
	cmd := exec.Command("go", "run", "./internal/gencaliper", "-schema", schema, "-context", context, "-out", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gencaliper: %v\n%s", err, msg)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile("caliper_schema.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, want) {
		t.Error("caliper_schema.go is stale: run go generate ./ingest")
	}
}
