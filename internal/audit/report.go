package audit

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report for people: a table with a row per record (page and version)
// and a column per check, then what failed and how, then a summary line.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "DOC\tPAGE\tVERSION\t%s\tRESULT\n", strings.ToUpper(strings.Join(Columns, "\t")))
	for _, row := range r.Rows {
		cells := make([]string, len(Columns))
		for i, c := range Columns {
			cells[i] = row.Checks[c]
		}
		result := OK
		if row.Failed() {
			result = Failed
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", row.Doc, row.Page, row.Version, strings.Join(cells, "\t"), result)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if n := r.Failures(); n > 0 {
		b.WriteString("\nfailures:\n")
		for _, row := range r.Rows {
			for _, p := range row.Problems {
				fmt.Fprintf(&b, "  %s page %d version %d: %s\n", row.Doc, row.Page, row.Version, p)
			}
		}
	}
	fmt.Fprintf(&b, "\n%s\n", r.Summary())
	_, err := io.WriteString(w, b.String())
	return err
}

// Summary is the outcome in one line.
func (r Report) Summary() string {
	s := fmt.Sprintf("%d records of %d documents, %d objects re-hashed: ", len(r.Rows), len(r.Docs), r.Objects)
	if n := r.Failures(); n > 0 {
		s += fmt.Sprintf("%d FAILED", n)
	} else {
		s += "all verified"
	}
	if r.Unlogged > 0 {
		s += fmt.Sprintf(", %d of them in the store but not in the record log (if the log was lost, %s rebuilds it)", r.Unlogged, RebuildCommand)
	}
	if r.Pending > 0 {
		s += fmt.Sprintf(" (%d pages still in progress, not checked)", r.Pending)
	}
	return s
}
