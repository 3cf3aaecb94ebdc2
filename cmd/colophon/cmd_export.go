package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/colophon-archive/colophon/internal/bagit"
	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/internal/export"
	"github.com/colophon-archive/colophon/internal/version"
	"github.com/colophon-archive/colophon/pipeline"
)

// Tag files beside the payload, in a tag directory as RFC 8493 allows.
const (
	bagPREMIS = "metadata/premis.xml"
	bagPROV   = "metadata/prov.json"
)

func newExportCmd(g *globals) *cobra.Command {
	var (
		bagDir          string
		allowIncomplete bool
	)
	cmd := &cobra.Command{
		Use:   "export DOC --bagit DIR [--allow-incomplete]",
		Short: "Write a document as a BagIt bag: scans, outputs and records, with PREMIS and PROV metadata",
		Long: `Reads each page's current provenance record, fetches the scan and every output it names, re-hashes
each against the record, and writes a BagIt 1.0 bag (RFC 8493) into DIR, which must be new or
empty: data/ mirrors the store (scans/, texts/, provenance/, each scan once), with SHA-256 and
SHA-512 manifests, bag-info.txt (source, date, document ID, Colophon version) and the tag files
metadata/premis.xml (PREMIS 3) and metadata/prov.json (W3C PROV-JSON). Any file that differs
from its record stops the export, naming the page and the object. A document with pages that are
failed or still under way is refused unless --allow-incomplete, which bags the pages that are
done and names the others in bag-info.txt.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc := args[0]
			if bagDir == "" {
				return errors.New("--bagit DIR is required: the new or empty directory to write the bag into")
			}
			// Refused before anything is read; Create checks again when it writes.
			if err := bagit.CheckDir(bagDir); err != nil {
				return err
			}
			start := time.Now()
			c, closeFn, err := openClient(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer closeFn()
			ex, err := c.ReadForExport(cmd.Context(), doc, allowIncomplete)
			var incomplete *client.IncompleteError
			if errors.As(err, &incomplete) {
				return fmt.Errorf("%w\nnot exported: --allow-incomplete bags the pages that are done and lists the others in bag-info.txt", err)
			}
			if err != nil {
				return err
			}
			payload, info, tags, bytes, err := buildBag(ex)
			if err != nil {
				return err
			}
			if err := bagit.Create(bagDir, payload, info, tags); err != nil {
				return err
			}
			g.log.Info("exported", pipeline.LogDoc, doc, "pages", len(ex.Pages), "missing_pages", len(ex.Missing), "files", len(payload),
				"bytes", bytes, pipeline.LogDuration, time.Since(start).Milliseconds(), "bag", bagDir)
			return nil
		},
	}
	cmd.Flags().StringVar(&bagDir, "bagit", "", "write a BagIt bag into DIR (new or empty)")
	cmd.Flags().BoolVar(&allowIncomplete, "allow-incomplete", false, "bag the pages that are done even if others failed or are under way; bag-info.txt names the missing ones")
	return cmd
}

// buildBag lays out a verified document as a bag: payload, bag-info fields, tag files, and
// the payload's size.
func buildBag(ex client.DocumentExport) (payload []bagit.File, info []bagit.Field, tags []bagit.File, size int64, err error) {
	b := export.Bag{Doc: ex.Doc, Checked: ex.Checked, Exporter: version.Colophon()}
	seen := map[string]bool{}
	add := func(f client.StoredFile) {
		p := export.PayloadPath(f.Ref)
		if seen[p] {
			return // the scan of a multi-page file, bagged with its first page
		}
		seen[p] = true
		payload = append(payload, bagit.File{Path: p, Data: f.Data})
		size += int64(len(f.Data))
	}
	for _, p := range ex.Pages {
		for _, f := range p.Files {
			add(f)
		}
		add(p.RecordFile)
		b.Pages = append(b.Pages, export.Page{Record: p.Record, RecordFile: p.RecordFile.Ref})
	}
	premis, err := export.PREMIS(b)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	prov, err := export.PROV(b)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	tags = []bagit.File{{Path: bagPREMIS, Data: premis}, {Path: bagPROV, Data: prov}}

	first := ex.Pages[0].Record
	desc := "Scans of " + first.Source
	if first.Date != "" {
		desc += ", dated " + first.Date
	}
	desc += fmt.Sprintf(", with the text, hOCR, ALTO, searchable PDF and provenance record Colophon made of each page: %d page(s)", len(ex.Pages))
	if len(ex.Missing) > 0 {
		desc += fmt.Sprintf(" of %d; %d missing, see Colophon-Missing-Page", len(ex.Pages)+len(ex.Missing), len(ex.Missing))
	}
	info = []bagit.Field{
		{Label: "Source-Organization", Value: first.Source},
		{Label: "External-Description", Value: desc},
		{Label: "External-Identifier", Value: ex.Doc},
		{Label: "Bagging-Date", Value: ex.Checked.Format(time.DateOnly)},
		{Label: "Bag-Software-Agent", Value: "Colophon " + version.Colophon()},
	}
	for _, m := range ex.Missing {
		info = append(info, bagit.Field{Label: "Colophon-Missing-Page", Value: m.Describe()})
	}
	return payload, info, tags, size, nil
}
