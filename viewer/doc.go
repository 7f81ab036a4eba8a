// Package viewer holds the Fyne widgets of M3Ret Viewer, with the habits
// radiologists bring from Horos/OsiriX, RadiAnt and Weasis:
//
//   - ImageView: one slice of an image, volume (any plane) or video, with
//     window/level by drag, presets on number keys, invert, zoom, pan, fit
//     and 1:1, the value under the cursor and orientation letters;
//   - VolumeView: axial, coronal and sagittal reformats at the aspect the
//     spacing gives, with cross-reference lines;
//   - CineView: play, pause, frame rate, loop and frame step;
//   - CompareView: a query beside a neighbour, scrolled together, window
//     linked or not, with a table of their metadata and the differences;
//   - ThumbGrid: thumbnails with badges, for the library and the results;
//   - measuring in every ImageView (length, angle, ellipse and rectangle
//     ROI, values from library/measure), drawn on screen and in Render,
//     editable by their handles, listed by MeasureList.
//
// The windowing maths (Table, Presets) is pure and table-tested; drawing
// goes through a lookup table into reused buffers. Widgets are used from the
// UI goroutine only. The package imports library/media and library/measure
// and nothing else of the library.
package viewer
