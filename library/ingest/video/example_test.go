package video_test

import (
	"context"
	"fmt"
	"os"

	"github.com/m3ret/viewer/library/ingest/video"
)

// Reading a clip: up to MaxFrames frames sampled evenly, and one frame on
// demand.
func ExampleReadFile() {
	s, err := video.ReadFile("ES-colon/run1.mp4")
	if err != nil {
		fmt.Println(err) // wraps video.ErrNoFFmpeg when ffmpeg is missing
		return
	}
	fmt.Println(s.Frames, "of", s.Meta.SourceFrames, "frames,", s.FrameTime, "ms apart,", s.Meta.Modality)
	last, err := video.Frame("ES-colon/run1.mp4", s.Meta.SourceFrames-1)
	if err == nil {
		fmt.Println(last.Width, last.Height)
	}
}

// Decoding video bytes held in memory, such as the H.264 stream of a DICOM
// file.
func ExampleDecodeBytes() {
	data, err := os.ReadFile("clip.h264")
	if err != nil {
		return
	}
	s, err := video.DecodeBytes(context.Background(), data, 16)
	if err != nil {
		return
	}
	fmt.Println(s.Frames, s.Meta.SourceFormat)
}
