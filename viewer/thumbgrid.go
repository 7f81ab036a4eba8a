package viewer

import (
	"image"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// Tile is one cell of a ThumbGrid.
type Tile struct {
	ID      string
	Title   string // first caption line (e.g. modality and kind, or the score)
	Caption string // second line (e.g. the file name)
	Thumb   image.Image
}

// TileSize is the size of one grid cell.
var TileSize = fyne.NewSize(150, 190)

// ThumbGrid shows tiles in a wrapping, scrolling grid. Use it from the UI
// goroutine only.
type ThumbGrid struct {
	widget.BaseWidget
	tiles []Tile
	grid  *widget.GridWrap
	// OnSelected is called with the id of a tile the user chooses.
	OnSelected func(id string)
}

// NewThumbGrid returns an empty grid.
func NewThumbGrid() *ThumbGrid {
	g := &ThumbGrid{}
	g.grid = widget.NewGridWrap(
		func() int { return len(g.tiles) },
		func() fyne.CanvasObject {
			img := canvas.NewImageFromImage(nil)
			img.FillMode = canvas.ImageFillContain
			img.SetMinSize(fyne.NewSize(TileSize.Width-10, TileSize.Height-60))
			title := widget.NewLabel("")
			title.TextStyle.Bold = true
			title.Truncation = fyne.TextTruncateEllipsis
			caption := widget.NewLabel("")
			caption.Truncation = fyne.TextTruncateEllipsis
			return container.NewBorder(nil, container.NewVBox(title, caption), nil, nil, img)
		},
		func(i widget.GridWrapItemID, o fyne.CanvasObject) {
			if i >= len(g.tiles) {
				return
			}
			t := g.tiles[i]
			c := o.(*fyne.Container)
			img := c.Objects[0].(*canvas.Image)
			img.Image = t.Thumb
			img.Refresh()
			labels := c.Objects[1].(*fyne.Container).Objects
			labels[0].(*widget.Label).SetText(t.Title)
			labels[1].(*widget.Label).SetText(t.Caption)
		},
	)
	g.grid.OnSelected = func(i widget.GridWrapItemID) {
		if i < len(g.tiles) && g.OnSelected != nil {
			g.OnSelected(g.tiles[i].ID)
		}
	}
	g.ExtendBaseWidget(g)
	return g
}

// SetTiles replaces the tiles.
func (g *ThumbGrid) SetTiles(tiles []Tile) {
	g.tiles = tiles
	g.grid.UnselectAll()
	g.grid.Refresh()
}

// Tiles returns the tiles shown.
func (g *ThumbGrid) Tiles() []Tile { return g.tiles }

// Select chooses tile i as if the user clicked it.
func (g *ThumbGrid) Select(i int) { g.grid.Select(i) }

// CreateRenderer implements fyne.Widget.
func (g *ThumbGrid) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(g.grid)
}
