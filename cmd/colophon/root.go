package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/internal/provenance"
	"github.com/colophon-archive/colophon/pipeline"
)

// Environment variables every command reads.
const (
	envNATSURL    = "COLOPHON_NATS_URL"
	envS3Endpoint = "COLOPHON_S3_ENDPOINT"
	envAccessKey  = "COLOPHON_S3_ACCESS_KEY"
	envSecretKey  = "COLOPHON_S3_SECRET_KEY"
	// envNATSReplicas: copies JetStream keeps of each stream and bucket; 3 on a cluster.
	envNATSReplicas = "COLOPHON_NATS_REPLICAS"

	defaultNATSURL    = "nats://127.0.0.1:4222"
	defaultS3Endpoint = "http://127.0.0.1:9000"
)

// globals holds what every command shares: flags, output streams and the logger.
type globals struct {
	stdout, stderr io.Writer
	logFormat      string
	logLevel       string
	log            *slog.Logger
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "colophon",
		Short: "Turn scanned pages into searchable text that carries proof of where it came from",
		Long: `Colophon stores scans in S3 (MinIO), recognises them with Tesseract through NATS JetStream
workers, and records each text's provenance so whoever retrieves it can verify it.

Configuration comes from the environment:
  COLOPHON_NATS_URL       NATS server (default ` + defaultNATSURL + `; tls:// for TLS), or a
                          cluster's servers, comma-separated
  COLOPHON_NATS_REPLICAS  copies of each JetStream stream and bucket (default 1; 3 on a cluster)
  COLOPHON_S3_ENDPOINT    S3 endpoint (default ` + defaultS3Endpoint + `; https:// for TLS)
  COLOPHON_S3_ACCESS_KEY  S3 access key
  COLOPHON_S3_SECRET_KEY  S3 secret key
  COLOPHON_S3_CA          CA bundle for the S3 server's certificate; COLOPHON_S3_REGION
  COLOPHON_NATS_USER/_PASSWORD, COLOPHON_NATS_TOKEN, COLOPHON_NATS_NKEY (seed file) or
  COLOPHON_NATS_CREDS (.creds file): how to sign in to NATS, one at most
  COLOPHON_NATS_CA, COLOPHON_NATS_CERT, COLOPHON_NATS_KEY: NATS TLS (CA, client certificate)`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			l, err := newLogger(g.stderr, g.logFormat, g.logLevel)
			if err != nil {
				return err
			}
			g.log = l
			slog.SetDefault(l)
			return nil
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "auto", "log format: auto (text on a terminal, JSON otherwise), text or json")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.AddCommand(
		newDevCmd(g),
		newWorkerCmd(g),
		newHealthCmd(g),
		newUploadCmd(g),
		newStatusCmd(g),
		newWatchCmd(g),
		newIngestFailuresCmd(g),
		newGetCmd(g),
		newProvenanceCmd(g),
		newVerifyCmd(g),
		newRebuildLogCmd(g),
		newKeygenCmd(g),
		newExportCmd(g),
		newReprocessCmd(g),
		newSampleCmd(g),
		newSoakCmd(g),
		newBenchCmd(g),
	)
	return root
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "auto":
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			return slog.New(slog.NewTextHandler(w, opts)), nil
		}
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want auto, text or json", format)
}

// Environment variables for signing in to NATS and for TLS, read by every command through
// loadConfig (and, for a config built by hand as `dev` does, by connect). Files are named
// by path; the secrets themselves are never repeated in an error or a log line.
const (
	envNATSUser     = "COLOPHON_NATS_USER"
	envNATSPassword = "COLOPHON_NATS_PASSWORD"
	envNATSToken    = "COLOPHON_NATS_TOKEN"
	envNATSNKey     = "COLOPHON_NATS_NKEY"  // file holding a user NKey seed
	envNATSCreds    = "COLOPHON_NATS_CREDS" // .creds file: user JWT and seed
	envNATSCA       = "COLOPHON_NATS_CA"    // CA bundle (PEM) trusted for the NATS server's certificate
	envNATSCert     = "COLOPHON_NATS_CERT"  // client certificate (PEM), with envNATSKey
	envNATSKey      = "COLOPHON_NATS_KEY"   // its private key (PEM)
	envS3CA         = "COLOPHON_S3_CA"      // CA bundle (PEM) trusted for an https S3 endpoint's certificate
	envS3Region     = "COLOPHON_S3_REGION"
)

// config is where the deployment is and how to sign in to it.
type config struct {
	NATSURL    string
	S3Endpoint string
	AccessKey  string
	SecretKey  string

	// NATSReplicas: copies of each stream and bucket, from envNATSReplicas; 0 (a config
	// built by hand, for the single embedded server of `dev`) is 1.
	NATSReplicas int

	S3Region string
	S3CA     string // path

	NATSUser     string
	NATSPassword string
	NATSToken    string
	NATSNKey     string // path
	NATSCreds    string // path
	NATSCA       string // path
	NATSCert     string // path
	NATSKey      string // path

	// secured: the S3 and NATS security fields were read from the environment and checked. loadConfig
	// does it; connect does it for a config built by hand (`dev`).
	secured   bool
	s3RootCAs *x509.CertPool
}

// String keeps secrets out of anything that prints a config with %v or %+v.
func (c config) String() string {
	hidden := func(s string) string {
		if s == "" {
			return ""
		}
		return "xxxxx"
	}
	return fmt.Sprintf("{NATSURL:%s NATSReplicas:%d S3Endpoint:%s AccessKey:%s SecretKey:%s NATSUser:%s NATSPassword:%s NATSToken:%s NATSNKey:%s NATSCreds:%s NATSCA:%s NATSCert:%s NATSKey:%s S3CA:%s S3Region:%s}",
		bus.RedactURL(c.NATSURL), c.NATSReplicas, redactEndpoint(c.S3Endpoint), c.AccessKey, hidden(c.SecretKey), c.NATSUser, hidden(c.NATSPassword), hidden(c.NATSToken),
		c.NATSNKey, c.NATSCreds, c.NATSCA, c.NATSCert, c.NATSKey, c.S3CA, c.S3Region)
}

// GoString does the same for %#v.
func (c config) GoString() string { return "config" + c.String() }

// LogValue does the same for slog.
func (c config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// loadConfig reads the environment. Keys are required: only `dev` has defaults.
func loadConfig() (config, error) {
	c := config{
		NATSURL:    envOr(envNATSURL, defaultNATSURL),
		S3Endpoint: envOr(envS3Endpoint, defaultS3Endpoint),
		AccessKey:  os.Getenv(envAccessKey),
		SecretKey:  os.Getenv(envSecretKey),
	}
	var missing []string
	if c.AccessKey == "" {
		missing = append(missing, envAccessKey)
	}
	if c.SecretKey == "" {
		missing = append(missing, envSecretKey)
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("%s not set: the S3 credentials (for the dev stack, see README: Configuration)", strings.Join(missing, " and "))
	}
	r, err := natsReplicas()
	if err != nil {
		return c, err
	}
	c.NATSReplicas = r
	if err := c.readSecurity(); err != nil {
		return c, err
	}
	return c, nil
}

// natsReplicas reads envNATSReplicas: 1 when unset.
func natsReplicas() (int, error) {
	v := os.Getenv(envNATSReplicas)
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > bus.MaxReplicas {
		return 0, fmt.Errorf("%s=%q: want a number from 1 to %d (3 on a NATS cluster)", envNATSReplicas, v, bus.MaxReplicas)
	}
	return n, nil
}

// readSecurity reads the NATS sign-in, TLS and S3 TLS settings from the environment and
// refuses contradictory ones. Errors name variables and files, never a secret's value.
func (c *config) readSecurity() error {
	c.S3Region = os.Getenv(envS3Region)
	c.S3CA = os.Getenv(envS3CA)
	c.NATSUser = os.Getenv(envNATSUser)
	c.NATSPassword = os.Getenv(envNATSPassword)
	c.NATSToken = os.Getenv(envNATSToken)
	c.NATSNKey = os.Getenv(envNATSNKey)
	c.NATSCreds = os.Getenv(envNATSCreds)
	c.NATSCA = os.Getenv(envNATSCA)
	c.NATSCert = os.Getenv(envNATSCert)
	c.NATSKey = os.Getenv(envNATSKey)

	if (c.NATSUser == "") != (c.NATSPassword == "") {
		set, unset := envNATSUser, envNATSPassword
		if c.NATSUser == "" {
			set, unset = unset, set
		}
		return fmt.Errorf("%s is set but %s is not: set both or neither", set, unset)
	}
	var methods []string
	if urlHasCredentials(c.NATSURL) {
		methods = append(methods, "credentials in "+envNATSURL)
	}
	if c.NATSUser != "" {
		methods = append(methods, envNATSUser+"/"+envNATSPassword)
	}
	for _, m := range []struct{ env, v string }{{envNATSToken, c.NATSToken}, {envNATSNKey, c.NATSNKey}, {envNATSCreds, c.NATSCreds}} {
		if m.v != "" {
			methods = append(methods, m.env)
		}
	}
	if len(methods) > 1 {
		all := "all"
		if len(methods) == 2 {
			all = "both"
		}
		return fmt.Errorf("%s are %s set: they are different ways to sign in to NATS, set only one", strings.Join(methods, " and "), all)
	}
	if (c.NATSCert == "") != (c.NATSKey == "") {
		set, unset := envNATSCert, envNATSKey
		if c.NATSCert == "" {
			set, unset = unset, set
		}
		return fmt.Errorf("%s is set but %s is not: a client certificate needs both the certificate and its key", set, unset)
	}
	if c.S3CA != "" && !strings.HasPrefix(c.S3Endpoint, "https://") {
		return fmt.Errorf("%s is set but %s is not https://: a CA bundle is only for TLS", envS3CA, envS3Endpoint)
	}

	// Read the files now, so a wrong path is reported by name before anything connects.
	if c.NATSNKey != "" {
		if _, err := nats.NkeyOptionFromSeed(c.NATSNKey); err != nil {
			return fmt.Errorf("%s: %w", envNATSNKey, err)
		}
	}
	if c.NATSCreds != "" {
		if err := readable(c.NATSCreds); err != nil {
			return fmt.Errorf("%s: %w", envNATSCreds, err)
		}
	}
	if c.NATSCA != "" {
		if _, err := loadCAPool(c.NATSCA); err != nil {
			return fmt.Errorf("%s: %w", envNATSCA, err)
		}
	}
	if c.NATSCert != "" {
		if _, err := tls.LoadX509KeyPair(c.NATSCert, c.NATSKey); err != nil {
			return fmt.Errorf("%s/%s: %w", envNATSCert, envNATSKey, err)
		}
	}
	if c.S3CA != "" {
		pool, err := loadCAPool(c.S3CA)
		if err != nil {
			return fmt.Errorf("%s: %w", envS3CA, err)
		}
		c.s3RootCAs = pool
	}
	c.secured = true
	return nil
}

// urlHasCredentials reports whether any server in a NATS URL list carries user:password@
// or token@.
func urlHasCredentials(raw string) bool {
	for _, s := range strings.Split(raw, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "://") {
			s = "nats://" + s
		}
		if u, err := url.Parse(s); err == nil && u.User != nil {
			return true
		}
	}
	return false
}

func readable(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return f.Close()
}

// loadCAPool reads a PEM bundle of CA certificates.
func loadCAPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("no PEM certificate in %s", path)
	}
	return pool, nil
}

// natsOptions turns the settings into nats.go options.
func (c *config) natsOptions() ([]nats.Option, error) {
	if !c.secured {
		if err := c.readSecurity(); err != nil {
			return nil, err
		}
	}
	var opts []nats.Option
	switch {
	case c.NATSUser != "":
		opts = append(opts, nats.UserInfo(c.NATSUser, c.NATSPassword))
	case c.NATSToken != "":
		opts = append(opts, nats.Token(c.NATSToken))
	case c.NATSNKey != "":
		o, err := nats.NkeyOptionFromSeed(c.NATSNKey)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", envNATSNKey, err)
		}
		opts = append(opts, o)
	case c.NATSCreds != "":
		opts = append(opts, nats.UserCredentials(c.NATSCreds))
	}
	if c.NATSCA != "" {
		opts = append(opts, nats.RootCAs(c.NATSCA))
	}
	if c.NATSCert != "" {
		opts = append(opts, nats.ClientCert(c.NATSCert, c.NATSKey))
	}
	return opts, nil
}

// newStore opens the object store with the S3 settings.
func (c *config) newStore() (*objectstore.Store, error) {
	if !c.secured {
		if err := c.readSecurity(); err != nil {
			return nil, err
		}
	}
	var opts []objectstore.Option
	if c.S3Region != "" {
		opts = append(opts, objectstore.WithRegion(c.S3Region))
	}
	if c.s3RootCAs != nil {
		opts = append(opts, objectstore.WithRootCAs(c.s3RootCAs))
	}
	return objectstore.New(c.S3Endpoint, c.AccessKey, c.SecretKey, opts...)
}

// redactEndpoint hides credentials someone put in an S3 endpoint URL (they are not used:
// the keys come from their own variables) before it is printed.
func redactEndpoint(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable endpoint)"
	}
	if u.User != nil {
		u.User = url.User("xxxxx")
	}
	return u.String()
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// connect opens the bus and the store, and checks the topology exists. With wait, it keeps
// trying until the services answer (workers started before NATS or MinIO); otherwise it
// fails after a few seconds with what did not answer.
func connect(ctx context.Context, g *globals, cfg config, name string, wait bool) (*bus.Bus, *objectstore.Store, error) {
	store, err := cfg.newStore()
	if err != nil {
		return nil, nil, err
	}
	nopts, err := cfg.natsOptions()
	if err != nil {
		return nil, nil, err
	}
	for attempt := 1; ; attempt++ {
		b, err := tryConnect(ctx, g, cfg, name, store, nopts)
		if err == nil {
			return b, store, nil
		}
		if !wait || ctx.Err() != nil {
			return nil, nil, err
		}
		delay := min(time.Duration(attempt)*time.Second, 10*time.Second)
		g.log.Warn("waiting for NATS and S3", "attempt", attempt, "error", err.Error(), "retry_in", delay.String())
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(delay):
		}
	}
}

func tryConnect(ctx context.Context, g *globals, cfg config, name string, store *objectstore.Store, nopts []nats.Option) (*bus.Bus, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b, err := connectBus(cctx, g, cfg, name, nopts)
	if err != nil {
		return nil, err
	}
	if err := ensureBuckets(cctx, g, store); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// connectBus connects to NATS and checks its streams and buckets exist.
func connectBus(ctx context.Context, g *globals, cfg config, name string, nopts []nats.Option) (*bus.Bus, error) {
	b, err := bus.Connect(ctx, cfg.NATSURL, bus.WithName(name), bus.WithLogger(g.log), bus.WithNATSOptions(nopts...),
		bus.WithReplicas(max(cfg.NATSReplicas, 1)))
	if err != nil {
		return nil, err
	}
	if err := b.EnsureTopology(ctx); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// connectReader is connect for commands that only read: NATS, and a store client that has
// not touched the store. What NATS alone knows is answered while the store is down, and an
// object that cannot be fetched is reported, by name, when it is fetched.
func connectReader(ctx context.Context, g *globals, cfg config, name string) (*bus.Bus, *objectstore.Store, error) {
	store, err := cfg.newStore()
	if err != nil {
		return nil, nil, err
	}
	nopts, err := cfg.natsOptions()
	if err != nil {
		return nil, nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b, err := connectBus(cctx, g, cfg, name, nopts)
	if err != nil {
		return nil, nil, err
	}
	return b, store, nil
}

// Environment variables for the provenance bucket's object lock, read when it is created.
const (
	envRecordLock      = "COLOPHON_RECORD_LOCK"           // governance (default), compliance or off
	envRecordRetention = "COLOPHON_RECORD_RETENTION_DAYS" // default pipeline.DefaultRecordRetentionDays
)

// ensureBuckets creates the pipeline's buckets, the provenance bucket write-once (object
// lock) and the scans and texts versioned, and logs what the S3 service could not do.
func ensureBuckets(ctx context.Context, g *globals, store *objectstore.Store) error {
	lock := objectstore.Protection{LockMode: objectstore.LockGovernance, LockDays: pipeline.DefaultRecordRetentionDays}
	switch m := strings.ToLower(os.Getenv(envRecordLock)); m {
	case "", objectstore.LockGovernance:
	case objectstore.LockCompliance:
		lock.LockMode = m
	case "off":
		lock = objectstore.Protection{Versioning: true}
	default:
		return fmt.Errorf("%s=%q: want governance, compliance or off", envRecordLock, m)
	}
	if v := os.Getenv(envRecordRetention); v != "" {
		var days uint
		if _, err := fmt.Sscan(v, &days); err != nil || days == 0 {
			return fmt.Errorf("%s=%q: want a number of days, 1 or more", envRecordRetention, v)
		}
		lock.LockDays = days
	}
	for _, bucket := range pipeline.Buckets {
		p := objectstore.Protection{Versioning: slices.Contains(pipeline.VersionedBuckets, bucket)}
		if bucket == pipeline.BucketProvenance {
			p = lock
		}
		note, err := store.EnsureProtectedBucket(ctx, bucket, p)
		if err != nil {
			return err
		}
		if note != "" {
			g.log.Warn("object store", "bucket", bucket, "note", note)
		}
	}
	return nil
}

// openClient connects for a one-shot command, checking (and making) the store's buckets.
func openClient(ctx context.Context, g *globals) (*client.Client, func(), error) {
	return openClientWith(ctx, g, func(cfg config) (*bus.Bus, *objectstore.Store, error) {
		return connect(ctx, g, cfg, "colophon-cli", false)
	})
}

// openReader connects for a command that only reads (status, get, provenance), without
// the bucket checks: see connectReader.
func openReader(ctx context.Context, g *globals) (*client.Client, func(), error) {
	return openClientWith(ctx, g, func(cfg config) (*bus.Bus, *objectstore.Store, error) {
		return connectReader(ctx, g, cfg, "colophon-cli")
	})
}

func openClientWith(ctx context.Context, g *globals, dial func(config) (*bus.Bus, *objectstore.Store, error)) (*client.Client, func(), error) {
	cfg, err := loadConfig()
	if err != nil {
		return nil, nil, err
	}
	b, store, err := dial(cfg)
	if err != nil {
		return nil, nil, err
	}
	trusted, err := provenance.LoadPublicKeys(os.Getenv(provenance.EnvPublicKey))
	if err != nil {
		b.Close()
		return nil, nil, err
	}
	c, err := client.New(ctx, b, store, client.WithTrustedKeys(trusted...))
	if err != nil {
		b.Close()
		return nil, nil, err
	}
	return c, b.Close, nil
}

// isNoDocument reports a missing document, which commands turn into a plain message.
func isNoDocument(err error) bool { return errors.Is(err, bus.ErrNoDocument) }

// writeJSON prints v as indented JSON: every command's --json output.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
