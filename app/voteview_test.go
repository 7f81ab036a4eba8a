//go:build !headless

package app

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestVotePanel: with some items labelled, a search shows the labels'
// shares among the results and how many carry none; moving the threshold
// folds the smaller label into "other".
func TestVotePanel(t *testing.T) {
	g := newTestGUI(t)
	dir := writeImages(t, 5)
	g.StartImport([]string{dir})
	g.Wait()
	g.StartQueryFile(filepath.Join(dir, "e.png"))
	g.Wait()
	if g.vote.Text() != "" {
		t.Fatalf("a vote without labels: %q", g.vote.Text())
	}
	ids := map[string]string{}
	for _, tile := range g.libGrid.Tiles() {
		ids[tile.Caption] = tile.ID
	}
	for name, label := range map[string]string{"a.png": "tumour", "b.png": "tumour", "c.png": "normal"} {
		if err := g.s.Library().SetLabel(context.Background(), ids[name], label); err != nil {
			t.Fatal(err)
		}
	}
	g.StartQueryFile(filepath.Join(dir, "e.png"))
	g.Wait()
	score := map[string]float64{}
	for _, r := range g.s.Current().Results {
		score[r.Item.ID] = max(float64(r.Score), 0)
	}
	a, b, c := score[ids["a.png"]], score[ids["b.png"]], score[ids["c.png"]]
	tumour := (a + b) / (a + b + c)
	text := g.vote.Text()
	for _, want := range []string{fmt.Sprintf("tumour %4.0f%%", tumour*100), fmt.Sprintf("normal %4.0f%%", (1-tumour)*100),
		"of 5 results, 2 neighbours without a label"} {
		if !strings.Contains(strings.Join(strings.Fields(text), " "), strings.Join(strings.Fields(want), " ")) {
			t.Fatalf("panel %q lacks %q", text, want)
		}
	}
	g.vote.threshold.SetValue(0.5) // the user drags the slider to the right
	minor := "normal"
	if tumour < 0.5 {
		minor = "tumour"
	}
	if text := g.vote.Text(); strings.Contains(text, minor) || !strings.Contains(text, "other") {
		t.Fatalf("at 0.5 the panel reads %q", text)
	}
}
