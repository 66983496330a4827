package follow

import (
	"testing"

	"github.com/lrs-dev/lrs/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
