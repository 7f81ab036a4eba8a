package viewer

import (
	"image"
	"image/color"

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
	// Badges are short labels drawn over the thumbnail's top corner, e.g.
	// the modality and the kind.
	Badges []string
}

// badgeColours colour the kind badges; other badges are grey.
var badgeColours = map[string]color.Color{
	"volume":  color.NRGBA{R: 40, G: 110, B: 200, A: 230},
	"video":   color.NRGBA{R: 140, G: 70, B: 190, A: 230},
	"image2d": color.NRGBA{R: 30, G: 140, B: 120, A: 230},
}

const maxBadges = 3

// newBadge is a rounded label; it hides while empty.
func newBadge() *fyne.Container {
	bg := canvas.NewRectangle(color.NRGBA{R: 60, G: 60, B: 60, A: 220})
	bg.CornerRadius = 4
	t := canvas.NewText("", color.White)
	t.TextSize = 11
	t.TextStyle.Bold = true
	b := container.NewStack(bg, container.NewPadded(t))
	b.Layout = badgeLayout{}
	b.Hide()
	return b
}

// setBadge shows text on badge b.
func setBadge(b *fyne.Container, text string) {
	if text == "" {
		b.Hide()
		return
	}
	bg := b.Objects[0].(*canvas.Rectangle)
	t := b.Objects[1].(*fyne.Container).Objects[0].(*canvas.Text)
	t.Text = text
	bg.FillColor = color.NRGBA{R: 60, G: 60, B: 60, A: 220}
	if c, ok := badgeColours[text]; ok {
		bg.FillColor = c
	}
	b.Show()
	b.Refresh()
}

// badgeLayout sizes a badge to its text with a small margin.
type badgeLayout struct{}

func (badgeLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	t := objs[1].(*fyne.Container).Objects[0].(*canvas.Text)
	s := t.MinSize()
	return fyne.NewSize(s.Width+8, s.Height+2)
}

func (badgeLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	objs[0].Resize(size)
	inner := objs[1].(*fyne.Container)
	inner.Move(fyne.NewPos(4, 1))
	inner.Resize(fyne.NewSize(size.Width-8, size.Height-2))
	inner.Objects[0].Move(fyne.NewPos(0, 0))
	inner.Objects[0].Resize(inner.Size())
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
			badges := container.NewHBox()
			for range maxBadges {
				badges.Add(newBadge())
			}
			over := container.NewStack(img, container.NewVBox(badges))
			return container.NewBorder(nil, container.NewVBox(title, caption), nil, nil, over)
		},
		func(i widget.GridWrapItemID, o fyne.CanvasObject) {
			if i >= len(g.tiles) {
				return
			}
			t := g.tiles[i]
			c := o.(*fyne.Container)
			over := c.Objects[0].(*fyne.Container)
			img := over.Objects[0].(*canvas.Image)
			img.Image = t.Thumb
			img.Refresh()
			badges := over.Objects[1].(*fyne.Container).Objects[0].(*fyne.Container).Objects
			for j, b := range badges {
				text := ""
				if j < len(t.Badges) {
					text = t.Badges[j]
				}
				setBadge(b.(*fyne.Container), text)
			}
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
