//go:build !headless

package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // rendered previews
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/m3ret/viewer/app/cli"
	"github.com/m3ret/viewer/app/controller"
	"github.com/m3ret/viewer/library"
	"github.com/m3ret/viewer/library/pacs"
)

// pacsView is the PACS tab: choose a server, search its studies, see them
// with a rendered preview, retrieve one into the library (progress and
// Cancel in the status bar) or find cases similar to it. A study dragged
// onto the query pane is searched with.
type pacsView struct {
	g       *GUI
	server  *widget.Select
	fields  map[string]*widget.Entry
	list    *widget.List
	studies []pacs.Study
	thumbs  map[string]image.Image
	chosen  int
	client  *pacs.Client // the server the results came from
	content fyne.CanvasObject
}

// pacsFields are the search form's fields, in order.
var pacsFields = []struct{ key, label, hint string }{
	{"patient", "Patient", "name, wildcards * ?"}, {"id", "Patient ID", ""}, {"modality", "Modality", "CT, MR, US …"},
	{"date", "Study date", "YYYYMMDD or YYYYMMDD-YYYYMMDD"}, {"accession", "Accession", ""}, {"description", "Description", "wildcards * ?"},
}

func newPACSView(g *GUI) *pacsView {
	v := &pacsView{g: g, fields: map[string]*widget.Entry{}, thumbs: map[string]image.Image{}, chosen: -1}
	v.server = widget.NewSelect(nil, nil)
	v.reloadServers()
	form := widget.NewForm(widget.NewFormItem("Server", v.server))
	for _, f := range pacsFields {
		e := widget.NewEntry()
		e.SetPlaceHolder(f.hint)
		e.OnSubmitted = func(string) { v.search() }
		v.fields[f.key] = e
		form.Append(f.label, e)
	}
	v.list = widget.NewList(func() int { return len(v.studies) }, v.newRow, v.updateRow)
	v.list.OnSelected = func(i widget.ListItemID) { v.chosen = i }
	buttons := container.NewHBox(
		widget.NewButtonWithIcon("Search", theme.SearchIcon(), v.search),
		widget.NewButtonWithIcon("Retrieve", theme.DownloadIcon(), func() { v.retrieve(false) }),
		widget.NewButtonWithIcon("Find similar", theme.MediaFastForwardIcon(), func() { v.retrieve(true) }))
	split := container.NewHSplit(container.NewVScroll(container.NewVBox(form, buttons)), v.list)
	split.Offset = 0.38
	v.content = split
	return v
}

// reloadServers fills the server choice from the user's list.
func (v *pacsView) reloadServers() {
	list, err := cli.PACSServers()
	if err != nil {
		logf("PACS list: %v", err)
	}
	names := make([]string, len(list))
	for i, s := range list {
		names[i] = s.Name
	}
	v.server.Options = names
	if len(names) > 0 && v.server.Selected == "" {
		v.server.SetSelected(names[0])
	}
	v.server.Refresh()
}

// query is the search form as a QIDO query.
func (v *pacsView) query() (pacs.Query, error) {
	q := pacs.Query{PatientName: v.text("patient"), PatientID: v.text("id"), Modality: strings.ToUpper(v.text("modality")),
		Accession: v.text("accession"), Description: v.text("description"), Limit: 200}
	var err error
	if d := v.text("date"); d != "" {
		q.DateFrom, q.DateTo, err = pacs.ParseDates(d)
	}
	return q, err
}

func (v *pacsView) text(key string) string { return strings.TrimSpace(v.fields[key].Text) }

// search runs the form's search in the background, then fetches previews.
func (v *pacsView) search() {
	name := v.server.Selected
	q, err := v.query()
	switch {
	case name == "":
		err = errors.New("add a server first: m3ret pacs add NAME URL")
	case err == nil:
		v.g.status.SetText("Searching " + name + "…")
		open := func() (*pacs.Client, error) { return cli.OpenPACS(name) } // in the job: it may read a keyring
		err = v.g.s.StartFind(open, q, v.found)
	}
	if err != nil {
		v.g.status.SetText("PACS search: " + plain(err))
	}
}

// found shows a search's studies (on the UI goroutine).
func (v *pacsView) found(c *pacs.Client, studies []pacs.Study, err error) {
	var partial *pacs.PartialError
	if err != nil && !errors.As(err, &partial) {
		v.g.status.SetText("PACS search failed: " + plain(err))
		logf("pacs find: %v", err)
		return
	}
	v.client, v.studies, v.thumbs, v.chosen = c, studies, map[string]image.Image{}, -1
	v.list.UnselectAll()
	v.list.Refresh()
	v.g.status.SetText(fmt.Sprintf("%d studies on %s", len(studies), c.Name()))
	if partial != nil {
		v.g.status.SetText(fmt.Sprintf("%d studies on %s; %s", len(studies), c.Name(), plain(partial)))
		logf("pacs find: %v", partial)
	}
	uids := make([]string, len(studies))
	for i, s := range studies {
		uids[i] = s.UID
	}
	err = controller.Run(v.g.s.Controller, controller.Preview, func(ctx context.Context) (struct{}, error) {
		v.fetchPreviews(ctx, c, uids)
		return struct{}{}, nil
	}, func(struct{}, error) {})
	if err != nil && !errors.Is(err, controller.ErrClosed) {
		logf("pacs previews: %v", err)
	}
}

// fetchPreviews fetches a rendered preview of each study, one at a time,
// handing each to the list as it comes (failures leave the row without).
func (v *pacsView) fetchPreviews(ctx context.Context, c *pacs.Client, uids []string) {
	for _, uid := range uids {
		img, err := preview(ctx, c, uid)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			continue
		}
		v.g.do(func() {
			v.thumbs[uid] = img
			v.list.Refresh()
		})
	}
}

// preview renders the first instance of a study's first series.
func preview(ctx context.Context, c *pacs.Client, study string) (image.Image, error) {
	series, err := c.FindSeries(ctx, study, pacs.Query{Limit: 1})
	if err != nil || len(series) == 0 {
		return nil, fmt.Errorf("preview: %v", err)
	}
	inst, err := c.FindInstances(ctx, study, series[0].UID, pacs.Query{Limit: 1})
	if err != nil || len(inst) == 0 {
		return nil, fmt.Errorf("preview: %v", err)
	}
	b, _, err := c.Rendered(ctx, study, series[0].UID, inst[0].UID, 96)
	if err != nil {
		return nil, err
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	return img, err
}

// retrieve pulls the chosen study into the library; with similar, it then
// searches with what it pulled.
func (v *pacsView) retrieve(similar bool) {
	if v.chosen < 0 || v.chosen >= len(v.studies) {
		v.g.status.SetText("Choose a study in the PACS results first.")
		return
	}
	v.pull(v.studies[v.chosen], similar)
}

// pull retrieves a study in the background, with progress and Cancel.
func (v *pacsView) pull(study pacs.Study, similar bool) {
	c := v.client // the server the study was found on
	if c == nil {
		v.g.status.SetText("Search a PACS first.")
		return
	}
	if v.g.s.Running(controller.Pull) {
		v.g.started("A retrieve", controller.ErrBusy)
		return
	}
	v.g.showProgress("Retrieving…", controller.Pull)
	progress := throttle(v.g.do, func(done, total int) {
		v.g.progress.SetValue(float64(done) / float64(max(total, 1)))
		v.g.status.SetText(fmt.Sprintf("Retrieving %d of %d instances…", done, total))
	})
	r := controller.PullRequest{Client: c, StudyUID: study.UID}
	err := v.g.s.StartPull(r, progress, func(rep *library.Report, err error) { v.pulled(c.Name(), study.UID, similar, rep, err) })
	if err != nil {
		v.g.hideProgress()
		v.g.started("A retrieve", err)
	}
}

// pulled shows a pull's summary, and searches with the study if asked.
func (v *pacsView) pulled(server, study string, similar bool, rep *library.Report, err error) {
	v.g.hideProgress()
	msg := fmt.Sprintf("Retrieved: imported %d, %d series already here", rep.Imported, rep.Skipped)
	if len(rep.Failed) > 0 {
		msg += fmt.Sprintf(", %d failed", len(rep.Failed))
		v.g.showFailures(rep.Failed)
	}
	switch {
	case controller.IsCancel(err):
		msg = "Retrieve cancelled; whole series kept. " + msg
	case err != nil:
		msg = "Retrieve failed: " + plain(err)
		logf("pacs pull: %v", err)
	}
	v.g.refreshLibrary(msg)
	if !similar || err != nil {
		return
	}
	items, ierr := v.g.s.ItemsFrom(server, study, "")
	if ierr != nil || len(items) == 0 {
		v.g.status.SetText("Nothing the library can read came with that study.")
		return
	}
	v.g.StartQueryItem(items[0].ID)
}

func (v *pacsView) newRow() fyne.CanvasObject {
	r := &studyRow{v: v, img: canvas.NewImageFromImage(nil), title: widget.NewLabel(""), detail: widget.NewLabel("")}
	r.img.FillMode = canvas.ImageFillContain
	r.img.SetMinSize(fyne.NewSize(64, 64))
	r.title.TextStyle.Bold = true
	r.title.Truncation, r.detail.Truncation = fyne.TextTruncateEllipsis, fyne.TextTruncateEllipsis
	r.ExtendBaseWidget(r)
	return r
}

func (v *pacsView) updateRow(i widget.ListItemID, o fyne.CanvasObject) {
	r := o.(*studyRow)
	r.index = i
	s := v.studies[i]
	r.title.SetText(fmt.Sprintf("%s · %s · %s", cli.Or(s.PatientName, "(no name)"), fmtDate(s.Date), strings.Join(s.Modalities, "/")))
	r.detail.SetText(fmt.Sprintf("%s — %d series, %d instances", cli.Or(s.Description, "(no description)"), s.Series, s.Instances))
	r.img.Image = v.thumbs[s.UID]
	r.img.Refresh()
}

// studyRow is one study in the PACS results: a preview and two lines of
// text. Dragged onto the query pane, it is retrieved and searched with.
type studyRow struct {
	widget.BaseWidget
	v             *pacsView
	index         int
	img           *canvas.Image
	title, detail *widget.Label
	dragAt        fyne.Position
	dragging      bool
}

func (r *studyRow) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, r.img, nil, container.NewVBox(r.title, r.detail)))
}

// Dragged follows the pointer while the row is dragged.
func (r *studyRow) Dragged(e *fyne.DragEvent) { r.dragAt, r.dragging = e.AbsolutePosition, true }

// DragEnd searches with the study when it was dropped on the query pane.
func (r *studyRow) DragEnd() {
	if !r.dragging || r.index >= len(r.v.studies) {
		return
	}
	r.dragging = false
	if r.v.g.overQueryPane(r.dragAt) {
		r.v.list.Select(r.index)
		r.v.pull(r.v.studies[r.index], true)
	}
}

func fmtDate(d string) string {
	if len(d) == 8 {
		return d[:4] + "-" + d[4:6] + "-" + d[6:]
	}
	return d
}
