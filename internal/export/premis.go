package export

import (
	"encoding/xml"
	"fmt"
)

// PREMIS 3 namespace and schema.
const (
	PREMISNamespace = "http://www.loc.gov/premis/v3"
	premisSchema    = "http://www.loc.gov/standards/premis/v3/premis.xsd"
	xsiNamespace    = "http://www.w3.org/2001/XMLSchema-instance"
)

// The structs follow the PREMIS 3 schema's element order, which the schema requires.
type premisDoc struct {
	XMLName        xml.Name       `xml:"http://www.loc.gov/premis/v3 premis"`
	XSI            string         `xml:"xmlns:xsi,attr"`
	SchemaLocation string         `xml:"xsi:schemaLocation,attr"`
	Version        string         `xml:"version,attr"`
	Objects        []premisObject `xml:"object"`
	Events         []premisEvent  `xml:"event"`
	Agents         []premisAgent  `xml:"agent"`
}

type premisObject struct {
	Type            string                `xml:"xsi:type,attr"`
	ID              objectID              `xml:"objectIdentifier"`
	Characteristics objectCharacteristics `xml:"objectCharacteristics"`
	OriginalName    string                `xml:"originalName,omitempty"`
	Storage         storage               `xml:"storage"`
}

type objectID struct {
	Type  string `xml:"objectIdentifierType"`
	Value string `xml:"objectIdentifierValue"`
}

type objectCharacteristics struct {
	CompositionLevel int    `xml:"compositionLevel"`
	Fixity           fixity `xml:"fixity"`
	Size             int64  `xml:"size"`
	FormatName       string `xml:"format>formatDesignation>formatName"`
	Creator          *creatingApplication
}

type fixity struct {
	Algorithm  string `xml:"messageDigestAlgorithm"`
	Digest     string `xml:"messageDigest"`
	Originator string `xml:"messageDigestOriginator,omitempty"`
}

type creatingApplication struct {
	XMLName xml.Name `xml:"creatingApplication"`
	Name    string   `xml:"creatingApplicationName"`
	Version string   `xml:"creatingApplicationVersion,omitempty"`
	Date    string   `xml:"dateCreatedByApplication,omitempty"`
}

type storage struct {
	LocationType  string `xml:"contentLocation>contentLocationType"`
	LocationValue string `xml:"contentLocation>contentLocationValue"`
}

type premisEvent struct {
	ID       eventID         `xml:"eventIdentifier"`
	Type     string          `xml:"eventType"`
	DateTime string          `xml:"eventDateTime"`
	Details  []eventDetail   `xml:"eventDetailInformation"`
	Outcome  eventOutcome    `xml:"eventOutcomeInformation"`
	Agents   []linkingAgent  `xml:"linkingAgentIdentifier"`
	Objects  []linkingObject `xml:"linkingObjectIdentifier"`
}

type eventID struct {
	Type  string `xml:"eventIdentifierType"`
	Value string `xml:"eventIdentifierValue"`
}

// eventDetail is one eventDetailInformation: the schema allows one eventDetail in each.
type eventDetail struct {
	Detail string `xml:"eventDetail"`
}

func details(lines ...string) []eventDetail {
	out := make([]eventDetail, len(lines))
	for i, l := range lines {
		out[i] = eventDetail{l}
	}
	return out
}

type eventOutcome struct {
	Outcome string         `xml:"eventOutcome"`
	Detail  *outcomeDetail `xml:"eventOutcomeDetail,omitempty"`
}

type outcomeDetail struct {
	Note string `xml:"eventOutcomeDetailNote"`
}

func outcome(outcome, note string) eventOutcome {
	o := eventOutcome{Outcome: outcome}
	if note != "" {
		o.Detail = &outcomeDetail{note}
	}
	return o
}

type linkingAgent struct {
	Type  string `xml:"linkingAgentIdentifierType"`
	Value string `xml:"linkingAgentIdentifierValue"`
	Role  string `xml:"linkingAgentRole"`
}

type linkingObject struct {
	Type  string `xml:"linkingObjectIdentifierType"`
	Value string `xml:"linkingObjectIdentifierValue"`
	Role  string `xml:"linkingObjectRole"`
}

type premisAgent struct {
	ID      agentID  `xml:"agentIdentifier"`
	Name    string   `xml:"agentName"`
	Type    string   `xml:"agentType"`
	Version string   `xml:"agentVersion,omitempty"`
	Notes   []string `xml:"agentNote"`
}

type agentID struct {
	Type  string `xml:"agentIdentifierType"`
	Value string `xml:"agentIdentifierValue"`
}

// Identifier types: identifiers are local to the deployment (object keys) or to the bag.
const idLocal = "local"

// PREMIS describes the bag in PREMIS 3: an object per file (each scan once, every output,
// every record) with its SHA-256 and size; per page a transcription event (the OCR) and a
// message digest calculation event (the metadata worker hashing the outputs for the
// record); one fixity check event (the export's re-hash of every file); and the agents.
func PREMIS(b Bag) ([]byte, error) {
	doc := premisDoc{XSI: xsiNamespace, SchemaLocation: PREMISNamespace + " " + premisSchema, Version: "3.0"}
	files := b.files()
	for _, f := range files {
		doc.Objects = append(doc.Objects, premisFile(f))
	}

	var as agents
	for _, p := range b.Pages {
		rec := p.Record
		ev := premisEvent{
			ID:       eventID{idLocal, "transcription/" + pageID(rec)},
			Type:     "transcription",
			DateTime: timestamp(rec.OCR.Recognised),
			Details:  details(ocrDetails(rec)...),
			Outcome:  outcome("success", fmt.Sprintf("%d words, mean word confidence %.1f", rec.OCR.Words, rec.OCR.MeanConfidence)),
			Objects:  []linkingObject{{idLocal, file{Ref: rec.Scan}.id(), "source"}},
		}
		if !rec.OCR.Finished.IsZero() {
			ev.DateTime += "/" + timestamp(rec.OCR.Finished) // an ISO 8601 interval: from start to end
		}
		for _, a := range ocrAgents(&as, rec) {
			ev.Agents = append(ev.Agents, linkingAgent{idLocal, a[0], a[1]})
		}
		digest := premisEvent{
			ID:       eventID{idLocal, "message-digest-calculation/" + pageID(rec)},
			Type:     "message digest calculation",
			DateTime: timestamp(rec.Created),
			Details:  details("SHA-256 of each output recomputed from the stored bytes and written into the page's provenance record"),
			Outcome:  outcome("success", ""),
			Agents:   []linkingAgent{{idLocal, as.add(metadataWorker), "executing program"}},
		}
		for _, f := range pageOutputs(rec) {
			ev.Objects = append(ev.Objects, linkingObject{idLocal, f.id(), "outcome"})
			digest.Objects = append(digest.Objects, linkingObject{idLocal, f.id(), "source"})
		}
		digest.Objects = append(digest.Objects, linkingObject{idLocal, file{Ref: p.RecordFile}.id(), "outcome"})
		doc.Events = append(doc.Events, ev, digest)
	}

	check := premisEvent{
		ID:       eventID{idLocal, "fixity-check/" + b.Doc + "/" + timestamp(b.Checked)},
		Type:     "fixity check",
		DateTime: timestamp(b.Checked),
		Details:  details("SHA-256 of every file recomputed from the store's bytes and compared with its provenance record before bagging"),
		Outcome:  outcome("pass", fmt.Sprintf("%d files, every one as recorded", len(files))),
		Agents:   []linkingAgent{{idLocal, as.add(softwareColophon(b.Exporter)), "executing program"}},
	}
	for _, f := range files {
		check.Objects = append(check.Objects, linkingObject{idLocal, f.id(), "source"})
	}
	doc.Events = append(doc.Events, check)

	for _, a := range as.list {
		doc.Agents = append(doc.Agents, premisAgent{agentID{idLocal, a.ID}, a.Name, a.Type, a.Version, a.Notes})
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode PREMIS for %s: %w", b.Doc, err)
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

func premisFile(f file) premisObject {
	o := premisObject{
		Type: "file",
		ID:   objectID{idLocal, f.id()},
		Characteristics: objectCharacteristics{
			Fixity:     fixity{"SHA-256", f.Ref.SHA256, originator(f.Kind)},
			Size:       f.Ref.Bytes,
			FormatName: f.formatName(),
		},
		Storage: storage{"bag path", f.bagPath()},
	}
	rec := f.Page
	switch f.Kind {
	case kindScan:
		o.OriginalName = rec.FileName
	case kindRecord:
		o.Characteristics.Creator = &creatingApplication{Name: metadataWorker.Name, Date: timestamp(rec.Created)}
	default:
		c := &creatingApplication{Name: engine(rec.OCR).Name, Version: rec.OCR.EngineVersion}
		if !rec.OCR.Finished.IsZero() {
			c.Date = timestamp(rec.OCR.Finished)
		}
		o.Characteristics.Creator = c
	}
	return o
}

// originator says who computed a file's recorded SHA-256.
func originator(kind string) string {
	switch kind {
	case kindScan:
		return "Colophon upload"
	case kindRecord:
		return "Colophon export"
	}
	return metadataWorker.Name
}
