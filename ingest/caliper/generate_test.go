package caliper

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedTablesCurrent regenerates caliper_schema.go from the schema and
// context in ../shared and checks the committed file is what comes out.
func TestGeneratedTablesCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator")
	}
	out := filepath.Join(t.TempDir(), "caliper_schema.go")
	cmd := exec.Command("go", "run", "./internal/gencaliper", "-out", out)
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
