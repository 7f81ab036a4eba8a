package viewer_test

import (
	"fmt"

	"github.com/m3ret/viewer/library/media"
	"github.com/m3ret/viewer/viewer"
)

func ExampleNewTable() {
	lung := viewer.NewTable(viewer.Lung, viewer.TableOptions{})
	bone := viewer.NewTable(viewer.Bone, viewer.TableOptions{Invert: true})
	for _, hu := range []float32{-1000, -600, 40, 1000} {
		fmt.Println(hu, lung.Grey(hu), bone.Grey(hu))
	}
	// Output:
	// -1000 60 255
	// -600 128 255
	// 40 236 178
	// 1000 255 42
}

func ExamplePresets() {
	for _, p := range viewer.Presets("CT") {
		fmt.Printf("%c %s\n", p.Key, p.Name)
	}
	mr := &media.Sample{Width: 4, Height: 1, Frames: 1, Channels: 1, Data: []float32{0, 100, 200, 300}}
	p, _ := viewer.PresetFor("MR", '1')
	fmt.Printf("%s %+v\n", p.Name, p.Resolve(mr, mr.Frame(0)))
	// Output:
	// 0 Default
	// 1 Lung
	// 2 Mediastinum
	// 3 Abdomen
	// 4 Bone
	// 5 Brain
	// Auto {Center:150 Width:294}
}
