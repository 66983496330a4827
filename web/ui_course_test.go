package web_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// testCourse: from the overview's top courses to the course view, whose
// numbers are the API's for that course.
func testCourse(t *testing.T, w *uiWorld) {
	w.do(t, "overview", chromedp.Navigate(w.base+"/ui/#/overview"), waitText("#ov-top-course", "showing"),
		chromedp.Click(chromedp.CSS("#ov-top-course li a")), waitText("#course-activity-title", "events in the last 30 days"),
		chromedp.WaitVisible(chromedp.CSS("#course-learners canvas")), waitText("#course-objects-note", "showing"))
	hash := js[string](t, w, `location.hash`)
	id, err := url.QueryUnescape(strings.TrimPrefix(hash, "#/course?id="))
	if err != nil || !strings.HasPrefix(id, "https://example.edu/terms/") {
		t.Fatalf("course view at %q", hash)
	}
	n := w.countEvents(t, "course="+url.QueryEscape(id))
	if title := text(t, w, "#course-activity-title"); !strings.Contains(title, fmt.Sprintf(": %d events in the last 30 days", n)) {
		t.Errorf("activity title %q; the course has %d events", title, n)
	}
	media := w.countEvents(t, "course="+url.QueryEscape(id)+"&type=MediaEvent")
	shown := js[int](t, w, `[...document.querySelectorAll("#course-mix tbody tr")].filter(tr => tr.cells[0].textContent === "MediaEvent").reduce((n, tr) => n + Number(tr.cells[2].textContent.replace(/,/g, "")), 0)`)
	if media == 0 || shown != media {
		t.Errorf("media breakdown sums to %d; the course has %d MediaEvents", shown, media)
	}
	if note := text(t, w, "#course-objects-note"); !strings.Contains(note, "showing 20 of 30,") {
		t.Errorf("top objects: %q (30 objects a course)", note)
	}
	if learners := text(t, w, "#course-learners-title"); !strings.Contains(learners, "Learners active per day (most: ") {
		t.Errorf("learners: %q", learners)
	}
	if wide := js[string](t, w, `[...document.querySelectorAll("#view-course *")].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.tagName + "." + e.className).slice(0, 5).join(" ")`); wide != "" {
		t.Errorf("the course view is wider than the window: %s", wide)
	}
	w.shot(t, "course")
}
