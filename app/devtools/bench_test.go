package devtools

import (
	"encoding/json"
	"testing"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/app/internal/apptest"
)

func TestBenchEmbed(t *testing.T) {
	apptest.RequireORT(t)
	code, out, errs := runCLI(t, "bench", "embed", "--json", "--python", "", "--scale", "0.1", "--provider", "cpu")
	var rep struct {
		Provider string
		Kinds    []struct {
			Kind      string
			ItemsPerS float64 `json:"items_per_s"`
		}
		Twin struct {
			ORTItemsPerS float64 `json:"ort_items_per_s"`
			TorchError   string  `json:"torch_error"`
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != cli.ExitOK {
		t.Fatalf("exit %d %v: %s %s", code, err, out, errs)
	}
	if len(rep.Kinds) != 3 || rep.Provider != "CPU" || rep.Twin.ORTItemsPerS <= 0 || rep.Twin.TorchError != "skipped" {
		t.Fatalf("%+v", rep)
	}
	for _, k := range rep.Kinds {
		if k.ItemsPerS <= 0 {
			t.Fatalf("%+v", k)
		}
	}
}
