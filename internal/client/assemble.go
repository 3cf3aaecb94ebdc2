package client

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"github.com/colophon-archive/colophon/pipeline"
)

// Document joins verified page outputs into one document of the format: text pages
// separated by a form feed, hOCR or ALTO pages in one hOCR or ALTO document, PDF pages in
// one PDF. The
// pages' own bytes are what was verified; the joined document is made from them on the way
// out and is not itself stored.
func Document(format string, pages []PageText) ([]byte, error) {
	if len(pages) == 0 {
		return nil, errors.New("no pages")
	}
	switch format {
	case pipeline.FormatText:
		var buf bytes.Buffer
		for i, p := range pages {
			if i > 0 {
				buf.WriteByte('\f')
			}
			buf.Write(p.Text)
		}
		return buf.Bytes(), nil
	case pipeline.FormatHOCR:
		return joinXML(pages, "<body>", "</body>")
	case pipeline.FormatALTO:
		return joinXML(pages, "<Layout>", "</Layout>")
	case pipeline.FormatPDF:
		if len(pages) == 1 {
			return pages[0].Text, nil
		}
		rs := make([]io.ReadSeeker, len(pages))
		for i, p := range pages {
			rs[i] = bytes.NewReader(p.Text)
		}
		var out bytes.Buffer
		conf := model.NewDefaultConfiguration()
		conf.ValidationMode = model.ValidationRelaxed
		if err := api.MergeRaw(rs, &out, false, conf); err != nil {
			return nil, fmt.Errorf("join %d page PDFs: %w", len(pages), err)
		}
		return out.Bytes(), nil
	}
	return nil, fmt.Errorf("unknown output format %q", format)
}

// joinXML keeps the first page's document around the pages' contents between open and
// close: hOCR is one HTML document whose body holds an ocr_page element per page, ALTO one
// document whose Layout holds a Page element per page (ids are numbered by page).
func joinXML(pages []PageText, open, close string) ([]byte, error) {
	var head, tail []byte
	var body bytes.Buffer
	for _, p := range pages {
		i := bytes.Index(p.Text, []byte(open))
		j := bytes.LastIndex(p.Text, []byte(close))
		if i < 0 || j < i {
			return nil, fmt.Errorf("page %d: no %s element", p.Page, open)
		}
		i += len(open)
		if head == nil {
			head, tail = p.Text[:i], p.Text[j:]
		}
		body.Write(p.Text[i:j])
	}
	return append(append(append([]byte{}, head...), body.Bytes()...), tail...), nil
}
