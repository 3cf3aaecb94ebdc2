package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/colophon-archive/colophon/internal/audit"
	"github.com/colophon-archive/colophon/internal/provenance"
	"github.com/colophon-archive/colophon/pipeline"
)

// stageRebuildLog is the stage of rebuild-log's log lines.
const stageRebuildLog = "rebuild-log"

func newRebuildLogCmd(g *globals) *cobra.Command {
	var (
		all       bool
		publicKey string
		dryRun    bool
		asJSON    bool
	)
	cmd := &cobra.Command{
		Use:   "rebuild-log (DOC... | --all) [--public-key KEY] [--dry-run] [--json]",
		Short: "Rebuild the record log from the signed provenance records in the store",
		Long: `Rebuilds the record log (the JetStream stream that chains each document's provenance
records) from the records in the provenance bucket, after the log was lost or replaced: for
example when the NATS state was deleted and MinIO's kept. verify --all names such records
("in the store but not in the record log") and upload refuses their documents until then.

For each document (those named, or with --all every document with a record in the store) it
reads every stored record and checks it: its bytes are the record as written, its Ed25519
signature is by a trusted key, it is for the page and version its key names; then that the
records form one chain: places 1, 2, 3... with no gap or double, each naming the record
before it with the SHA-256 of its stored bytes. Only when the whole document checks out are
its entries appended to the log, each expecting the chain's head it read, so a rebuild cannot
interleave with a metadata worker's append.

A document is refused, naming each record and what is wrong with it, when its records do not
check out, or when the log already holds entries for it that differ from the stored records.
Entries the log already holds as they are stay: a document already whole is left alone, a
rebuild cut short goes on where it stopped. The exit status is 1 when any document was refused.

Trusted keys: --public-key, else ` + provenance.EnvPublicKey + ` (as verify). One is required: a
chain signed with any key at all would otherwise be taken into the log.`,
		RunE: func(cmd *cobra.Command, docs []string) error {
			if all == (len(docs) > 0) {
				return errors.New("name the documents whose record log to rebuild, or --all")
			}
			trusted, err := trustedKeys(publicKey)
			if err != nil {
				return err
			}
			if len(trusted) == 0 {
				return fmt.Errorf("rebuild-log needs the trusted public key (--public-key or %s; colophon keygen wrote signing.pub): records are taken into the log only when signed by it", provenance.EnvPublicKey)
			}
			for _, doc := range docs {
				if err := pipeline.ValidateDocID(doc); err != nil {
					return err
				}
			}
			ctx := cmd.Context()
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			b, store, err := connect(ctx, g, cfg, "colophon-rebuild-log", false)
			if err != nil {
				return err
			}
			defer b.Close()
			if all {
				if docs, err = audit.StoredDocs(ctx, store); err != nil {
					return err
				}
			}

			type outcome struct {
				audit.Rebuilt
				Error string `json:"error,omitempty"`
			}
			var (
				out     []outcome
				refused int
			)
			opts := audit.RebuildOptions{Trusted: trusted, DryRun: dryRun}
			for _, doc := range docs {
				start := time.Now()
				r, err := audit.Rebuild(ctx, store, b, doc, opts)
				o := outcome{Rebuilt: r}
				log := g.log.With(pipeline.LogDoc, doc, pipeline.LogStage, stageRebuildLog, pipeline.LogDuration, time.Since(start).Milliseconds())
				if err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					o.Error = err.Error()
					refused++
					log.Error("stage event", pipeline.LogOutcome, pipeline.OutcomeFailed, pipeline.LogError, err.Error())
				} else {
					log.Info("stage event", pipeline.LogOutcome, pipeline.OutcomeOK, "records", r.Records, "in_log", r.InLog, "appended", r.Appended, "dry_run", dryRun)
				}
				out = append(out, o)
			}

			if asJSON {
				if out == nil {
					out = []outcome{}
				}
				if err := writeJSON(g.stdout, out); err != nil {
					return err
				}
			} else {
				appended := "appended to the record log"
				if dryRun {
					appended = "to append (dry run: nothing appended)"
				}
				for _, o := range out {
					switch {
					case o.Error != "":
						fmt.Fprintf(g.stdout, "%s: REFUSED: %s\n", o.Doc, o.Error)
					case o.Appended == 0:
						fmt.Fprintf(g.stdout, "%s: %d records, all in the record log already\n", o.Doc, o.Records)
					default:
						fmt.Fprintf(g.stdout, "%s: %d records checked, %d %s (%d were there)\n", o.Doc, o.Records, o.Appended, appended, o.InLog)
					}
				}
				fmt.Fprintf(g.stdout, "%d documents, %d refused\n", len(out), refused)
			}
			if refused > 0 {
				return fmt.Errorf("rebuild-log: %d of %d documents refused", refused, len(out))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "every document with a record in the store")
	publicKeyFlag(cmd, &publicKey)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check and compare, append nothing")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the outcome per document as JSON")
	return cmd
}
