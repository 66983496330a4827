package edx

import (
	"regexp"
	"strings"
)

// Open edX installations older than 2015 identify courses and blocks with
// the "deprecated" keys of edx-opaque-keys: SlashKey course ids
// (org/course/run) and i4x:// usage ids. In the default mode they are turned
// into the ids the current keys give the same course and block, so old and
// new logs of one course land on one course (docs/edx-mapping.md, "Legacy
// keys"). Anything that is not a well-formed legacy key is left as it is.

// keyPart is one component of a course key: what edx-opaque-keys allows.
var keyPart = regexp.MustCompile(`^[\w.~:-]+$`)

// currentCourseID returns a SlashKey course id org/course/run as
// course-v1:org+course+run; any other id unchanged.
func currentCourseID(id string) string {
	if strings.Contains(id, ":") || strings.Count(id, "/") != 2 {
		return id
	}
	parts := strings.Split(id, "/")
	for _, p := range parts {
		if !keyPart.MatchString(p) {
			return id
		}
	}
	return "course-v1:" + strings.Join(parts, "+")
}

// legacyLocation matches i4x://org/course/category/name and the asset form
// c4x://org/course/asset/name, with an optional @revision (e.g. @draft),
// which names no separate block.
var legacyLocation = regexp.MustCompile(`^([ic])4x://([\w.~:-]+)/([\w.~:-]+)/([\w.~:-]+)/([\w.~:-]+)(?:@[\w-]+)?$`)

// currentUsageID returns an i4x:// usage id as the block-v1: id the current
// key gives the block, and a c4x:// asset as asset-v1:. The run, which a
// legacy location does not carry, comes from course, the event's course id
// (in either form); it must have the location's org and course. Anything
// else is returned unchanged.
func currentUsageID(id, course string) string {
	m := legacyLocation.FindStringSubmatch(id)
	if m == nil {
		return id
	}
	org, num, category, name := m[2], m[3], m[4], m[5]
	courseOrg, courseNum, run, ok := splitCourseKey(currentCourseID(course))
	if !ok || courseOrg != org || courseNum != num {
		return id
	}
	prefix := "block-v1:"
	if m[1] == "c" {
		prefix = "asset-v1:"
	}
	return prefix + org + "+" + num + "+" + run + "+type@" + category + "+block@" + name
}

// splitCourseKey splits course-v1:org+course+run.
func splitCourseKey(id string) (org, course, run string, ok bool) {
	key, found := strings.CutPrefix(id, "course-v1:")
	if !found {
		return "", "", "", false
	}
	parts := strings.Split(key, "+")
	if len(parts) != 3 {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// Problem input keys of browser problem_check form data: input_<block>_2_1
// for current keys; input_i4x-<org>-<course>-problem-<name>_2_1 for legacy
// ones, where org and course are HTML-escaped (6.002x becomes 6_002x), so
// only the block name is read from them. The reference reads only hex block
// names; the default mode reads any (courses moved from old installations
// keep names such as S1E1). Names are lazy and must be followed by a
// non-word character: the last _<n>_<n> pair is the input's.
var (
	hexInputKeyRE    = regexp.MustCompile(`input_([0-9a-f]+)_\d+_\d+`)
	inputKeyRE       = regexp.MustCompile(`input_([\w-]+?)_\d+_\d+\b`)
	legacyInputKeyRE = regexp.MustCompile(`input_i4x-\w+-\w+-problem-([\w-]+?)_\d+_\d+\b`)
)

// inputBlock is the name of the problem block a browser problem_check's
// form data answers, or "". current: the default mode's reading.
func inputBlock(data string, current bool) string {
	if !current {
		if m := hexInputKeyRE.FindStringSubmatch(data); m != nil {
			return m[1]
		}
		return ""
	}
	for _, re := range []*regexp.Regexp{legacyInputKeyRE, inputKeyRE} {
		if m := re.FindStringSubmatch(data); m != nil {
			return m[1]
		}
	}
	return ""
}

// legacyVideoID matches the HTML id older video events carry as data.id:
// i4x-<org>-<course>-video-<name>.
var legacyVideoID = regexp.MustCompile(`^i4x-[\w]+-[\w]+-video-([\w-]+)$`)
