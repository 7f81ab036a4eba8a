package inference_test

import (
	"fmt"

	"github.com/m3ret/viewer/assets"
	"github.com/m3ret/viewer/inference"
)

func ExampleParseManifest() {
	data, _, err := assets.Model("baseline")
	if err != nil {
		panic(err)
	}
	m, err := inference.ParseManifest(data)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Name, m.Input.Shape, m.Output.Dim)
	// Output: baseline [-1 1 1 64 64] 256
}
