package bench

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/colophon-archive/colophon/internal/imageinfo"
	"github.com/colophon-archive/colophon/internal/sample"
)

// PageFile is one benchmark page on disk.
type PageFile struct {
	Path string
	// Truth is the text on the page (sample.Render's exact text for a generated page, the
	// X.gt.txt or X.txt beside a given one); empty when HasTruth is false.
	Truth    string
	HasTruth bool
	Width    int
	Height   int
	Bytes    int64
}

// PageSet is the pages every contender reads, in order.
type PageSet struct {
	// Source says where the pages came from: "generated" or the directory given.
	Source string
	Pages  []PageFile
}

// Paths lists the pages' files in order.
func (s PageSet) Paths() []string {
	out := make([]string, len(s.Pages))
	for i, p := range s.Pages {
		out[i] = p.Path
	}
	return out
}

// AllHaveTruth reports whether every page has ground truth, so a mean CER covers them all.
func (s PageSet) AllHaveTruth() bool {
	for _, p := range s.Pages {
		if !p.HasTruth {
			return false
		}
	}
	return len(s.Pages) > 0
}

// Page sizes of generated pages.
const (
	// FullPageWidth x FullPageHeight is A4 at 300 dpi, what the targets are measured on.
	FullPageWidth, FullPageHeight = 2480, 3508
	// Smoke pages are small, for the CI mode that only checks the benchmark works.
	SmokePageWidth, SmokePageHeight = 1240, 1000
)

// Words drawn on a generated page: a full page holds an ordinary typed page of prose.
const (
	fullMinWords, fullMaxWords   = 360, 420
	smokeMinWords, smokeMaxWords = 40, 50
)

// Generate renders n distinct pages into dir (page-01.png, ...): full A4 pages at 300 dpi
// with 360-440 words of ordinary prose each, or, when full is false, small pages of about
// 45 words. Each page names its number and has its own sentences, drawn from a PRNG seeded
// with seed and the page number, so the same seed gives the same pages.
func Generate(dir string, n int, full bool, seed uint64) (PageSet, error) {
	set := PageSet{Source: "generated"}
	if n < 1 {
		return set, errors.New("generate: want 1 page or more")
	}
	w, h, minW, maxW := FullPageWidth, FullPageHeight, fullMinWords, fullMaxWords
	if !full {
		w, h, minW, maxW = SmokePageWidth, SmokePageHeight, smokeMinWords, smokeMaxWords
	}
	var pages []sample.Page
	for i := 1; i <= n; i++ {
		rnd := rand.New(rand.NewPCG(seed, uint64(i)))
		p, err := renderOnePage(pageText(rnd, i, n, minW+rnd.IntN(maxW-minW+1)), w, h)
		if err != nil {
			return set, fmt.Errorf("generate page %d: %w", i, err)
		}
		pages = append(pages, p)
	}
	paths, err := sample.WriteFiles(dir, pages)
	if err != nil {
		return set, err
	}
	for i, path := range paths {
		set.Pages = append(set.Pages, PageFile{Path: path, Truth: pages[i].Text, HasTruth: true,
			Width: w, Height: h, Bytes: int64(len(pages[i].PNG))})
	}
	return set, nil
}

// renderOnePage renders text on one page of w x h px, dropping sentences from the end
// until it fits on one: a page's ground truth must be all on that page.
func renderOnePage(sentences []string, w, h int) (sample.Page, error) {
	for len(sentences) > 0 {
		pages, err := sample.Render(strings.Join(sentences, ""), sample.WithPageSize(w, h))
		if err != nil {
			return sample.Page{}, err
		}
		if len(pages) == 1 {
			return pages[0], nil
		}
		sentences = sentences[:len(sentences)-1]
	}
	return sample.Page{}, errors.New("nothing fits on the page")
}

// pageText makes the text of page i of n: a heading and paragraphs of sentences, about
// words long, as pieces whose concatenation is the text (so the caller can drop the last).
func pageText(rnd *rand.Rand, i, n, words int) []string {
	pick := func(xs []string) string { return xs[rnd.IntN(len(xs))] }
	org := pick(proseOrgs)
	out := []string{
		strings.ToUpper(org) + "\n",
		fmt.Sprintf("%s, %s %d, 19%d. Page %d of %d.\n\n", pick(proseDocKinds), pick(proseMonths), 1+rnd.IntN(28), 60+rnd.IntN(20), i, n),
	}
	count := 0
	for _, s := range out {
		count += len(strings.Fields(s))
	}
	inPara := 0
	paraLen := 3 + rnd.IntN(4)
	// Each sentence pattern once before any comes again, so a page reads as prose.
	order := rnd.Perm(len(proseTemplates))
	for k := 0; count < words; k++ {
		s := fillTemplate(rnd, proseTemplates[order[k%len(order)]], org)
		if inPara == paraLen {
			s = "\n\n" + s
			inPara, paraLen = 0, 3+rnd.IntN(4)
		} else if inPara > 0 {
			s = " " + s
		}
		out = append(out, s)
		inPara++
		count += len(strings.Fields(s))
	}
	return out
}

// fillTemplate replaces each {slot} in t with a random choice for it.
func fillTemplate(rnd *rand.Rand, t, org string) string {
	var b strings.Builder
	for {
		open := strings.IndexByte(t, '{')
		if open < 0 {
			b.WriteString(t)
			break
		}
		end := strings.IndexByte(t[open:], '}') + open
		b.WriteString(t[:open])
		slot := t[open+1 : end]
		switch slot {
		case "org":
			b.WriteString(org)
		case "day":
			fmt.Fprintf(&b, "%d", 1+rnd.IntN(28))
		case "number":
			fmt.Fprintf(&b, "%d", 12+rnd.IntN(80))
		case "amount":
			fmt.Fprintf(&b, "%d.%02d", 5+rnd.IntN(300), 5*rnd.IntN(20))
		case "hour":
			fmt.Fprintf(&b, "%d:%s", 6+rnd.IntN(3), []string{"00", "15", "30", "45"}[rnd.IntN(4)])
		default:
			choices, ok := proseSlots[slot]
			if !ok {
				panic("bench: no slot " + slot) // a typo in proseTemplates
			}
			b.WriteString(choices[rnd.IntN(len(choices))])
		}
		t = t[end+1:]
	}
	s := b.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

var (
	proseOrgs     = []string{"Harbor Court Tenants' Association", "Eastside Housing Committee", "Mill Street Residents' Union", "Northgate Tenants' Council", "Riverside Neighbors' League"}
	proseDocKinds = []string{"Minutes of the general meeting", "Newsletter", "Report of the committee", "Letter to the members", "Statement to the residents"}
	proseMonths   = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	proseSlots    = map[string][]string{
		"month":    proseMonths,
		"name":     {"Mrs. Alvarez", "Mr. Okafor", "Miss Brennan", "Mr. Kowalski", "Mrs. Lindqvist", "Mr. Haddad", "Mrs. Osei", "Mr. Duarte", "Miss Whitfield", "Mr. Nakamura"},
		"building": {"Building A", "Building B", "Building C", "the east wing", "the north stairwell", "the garden block"},
		"thing":    {"the boiler", "the front door lock", "the elevator", "the roof over the top floor", "the laundry machines", "the hallway lights", "the water heater", "the back stairs", "the mailboxes", "the heating pipes"},
		"group":    {"the management company", "the city housing office", "the building inspector", "the landlord's lawyer", "the local newspaper", "the church hall committee", "our council member"},
		"people":   {"tenants", "households", "members", "neighbors", "families", "residents"},
		"action":   {"wrote a letter", "kept a careful record", "called the office every morning", "signed the petition", "spoke at the hearing", "collected the signatures", "counted the votes"},
		"topic":    {"the rent increase", "the repairs", "the winter heating", "the dues", "the new lease", "the summer picnic", "the safety of the stairs", "the election of officers"},
		"place":    {"the basement laundry room", "the church hall", "the lobby of Building A", "the community center", "the public library"},
		"weekday":  {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
		"feeling":  {"glad", "sorry", "proud", "grateful", "surprised", "pleased"},
		"adj":      {"long", "difficult", "useful", "quiet", "busy", "lively", "short"},
	}
	proseTemplates = []string{
		"{name} reported that {thing} in {building} had not worked since {month} {day}.",
		"The committee agreed to write to {group} about {thing} before the next meeting.",
		"More than {number} {people} signed the statement, and copies were sent to {group}.",
		"We are {feeling} to report that {thing} was repaired on {month} {day}.",
		"The next general meeting will be held on {weekday}, {month} {day}, at {hour} in the evening, in {place}.",
		"{name} asked whether {group} had answered our letter about {topic}.",
		"Dues are still fifty cents a month per household, and no one is turned away for being unable to pay.",
		"The treasurer reported a balance of {amount} dollars after paying for paper, stamps and coffee.",
		"It happened because people came to the meeting, {action}, and did not give up.",
		"Anyone who lives here may attend, speak and vote on {topic}.",
		"After a {adj} discussion, the members voted to ask {group} for a meeting in {month}.",
		"{name} thanked everyone who {action} during the cold weeks of {month}.",
		"A list of every complaint about {thing} is kept by {name} and may be read by any member.",
		"The meeting was {adj}, and it ended at {hour} with coffee in {place}.",
		"Some of you have asked what the association actually does about {topic}.",
		"We are not a club, and we do not collect rent; we are neighbors who meet on the first {weekday} of every month.",
		"{name} and {name} offered to visit the {people} in {building} who could not come.",
		"The inspector came on {month} {day} and found {number} violations, most of them about {thing}.",
		"Please write down the temperature in your rooms each morning and give the sheet to {name}.",
		"If {thing} in {building} fails again, call {name} at once rather than waiting for the office.",
		"{group} has promised an answer on {topic} by the end of {month}, and we will hold them to it.",
		"At the last meeting {number} {people} were present, the largest number since the spring.",
		"The minutes of the previous meeting were read by {name} and approved without change.",
		"A small fee is charged for {place} on the nights when we need a larger room.",
		"Members who {action} should keep a copy for themselves and give one to the secretary.",
		"The question of {topic} will be taken up again when {group} replies.",
		"It was agreed that no repair would be counted as done until {name} had seen it.",
		"Children from {building} painted the new sign for the door of {place}.",
		"We thank {name} for typing and copying this newsletter, and {name} for carrying it to every door.",
		"Anyone with a question about {topic} may speak to {name} after any meeting.",
	}
)

// FromDir reads the image files in dir (by content, not name; in name order), at most max
// of them (0: all). A page X.ext has ground truth when X.gt.txt or X.txt is beside it.
func FromDir(dir string, max int) (PageSet, error) {
	set := PageSet{Source: dir}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return set, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasSuffix(e.Name(), ".txt") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	for _, name := range names {
		if max > 0 && len(set.Pages) == max {
			break
		}
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			return set, err
		}
		info, err := imageinfo.Inspect(data, imageinfo.Limits{})
		if err != nil {
			continue // not an image we read: a licence, a README
		}
		p := PageFile{Path: path, Width: info.Width, Height: info.Height, Bytes: int64(len(data))}
		stem := strings.TrimSuffix(path, filepath.Ext(path))
		for _, gt := range []string{stem + ".gt.txt", stem + ".txt"} {
			if b, err := os.ReadFile(gt); err == nil {
				p.Truth, p.HasTruth = string(b), true
				break
			}
		}
		set.Pages = append(set.Pages, p)
	}
	if len(set.Pages) == 0 {
		return set, fmt.Errorf("%s: no image files", dir)
	}
	return set, nil
}

// DeclaredDPI is the resolution a page file declares, 0 when none.
func DeclaredDPI(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	info, err := imageinfo.Inspect(data, imageinfo.Limits{})
	if err != nil {
		return 0
	}
	return info.DPI
}
