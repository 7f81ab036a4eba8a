//go:build !headless

package app

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/library"
)

func TestStartupMessage(t *testing.T) {
	c := &cli.Common{Library: "/home/u/lib", Model: "baseline"}
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"model mismatch", fmt.Errorf("%w: it holds m3ret-vit@1-x embeddings", library.ErrModelMismatch),
			[]string{"another model", `m3ret reindex --library "/home/u/lib" --model "baseline"`}},
		{"locked", fmt.Errorf("open catalog: %w", library.ErrLocked), []string{"/home/u/lib", "open in another"}},
		{"other", fmt.Errorf("start onnx runtime: no library"), []string{"could not start", "no library"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := startupMessage(c, tt.err)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
		})
	}
}

func TestStartupErrorWindow(t *testing.T) {
	a := test.NewTempApp(t)
	w := startupErrorWindow(a, "M3Ret Viewer could not start:\n\nboom")
	w.Show()
	var label *widget.Label
	var button *widget.Button
	for _, o := range test.LaidOutObjects(w.Content()) {
		switch v := o.(type) {
		case *widget.Label:
			label = v
		case *widget.Button:
			button = v
		}
	}
	if label == nil || !strings.Contains(label.Text, "boom") || button == nil || button.Text != "Close" {
		t.Fatalf("label %v, button %v", label, button)
	}
	closed := false
	w.SetOnClosed(func() { closed = true })
	test.Tap(button)
	if !closed {
		t.Fatal("Close did not close the window")
	}
}
