package media_test

import (
	"fmt"

	"github.com/m3ret/viewer/library/media"
)

func ExampleNewLUT() {
	lung := media.NewLUT(media.Window{Center: -600, Width: 1500})
	for _, hu := range []float32{-1000, -600, 150} {
		fmt.Println(hu, lung.Grey(hu))
	}
	// Output:
	// -1000 60
	// -600 128
	// 150 255
}
