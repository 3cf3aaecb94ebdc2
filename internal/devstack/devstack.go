// Package devstack runs the development stack Colophon needs locally: an
// embedded NATS server with JetStream, in-process, and a real MinIO server as a
// child process. It is meant for `colophon dev`-style commands and integration
// tests, not for production deployments.
package devstack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/colophon-archive/colophon/pipeline"
)

// MinIOVersion is the pinned MinIO module version; MinIOInstallCommand is the
// exact command printed when the binary is missing.
const MinIOVersion = "v0.0.0-20260212201848-7aac2a2c5b7c"

// MinIOInstallCommand installs the pinned MinIO server binary.
const MinIOInstallCommand = "go install github.com/minio/minio@" + MinIOVersion

const (
	natsReadyTimeout  = 10 * time.Second
	minioReadyTimeout = 60 * time.Second
	minioStopGrace    = 10 * time.Second
	probeTimeout      = 2 * time.Second
	minioOutputLimit  = 64 << 10 // bytes of MinIO output kept for error messages

	// A MinIO child that dies is restarted at most minioRestarts times in any
	// minioRestartWindow, after minioRestartDelay, doubled for each restart already in the
	// window (1 s, 2 s, 4 s): enough to ride out a stray kill or OOM, not to spin on a
	// MinIO that cannot run (disk gone, port taken). Then the stack fails (Stack.Failed).
	minioRestarts      = 3
	minioRestartWindow = 10 * time.Minute
	minioRestartDelay  = time.Second
	minioTailLines     = 20 // lines of a dead MinIO's output in the log line that reports it
)

// Config describes where the stack keeps its state and where it listens.
//
// The security fields are optional; left zero, NATS takes anyone over plain TCP and MinIO
// serves plain HTTP. At most one of NATSUser/NATSPassword, NATSToken and NATSNKeys may be set.
type Config struct {
	DataDir    string       // NATS state under DataDir/nats, MinIO data under DataDir/minio (created if missing)
	NATSURL    string       // where the embedded NATS listens, e.g. "nats://127.0.0.1:4222" or "tls://…" (host+port parsed from it; credentials in it are ignored)
	S3Endpoint string       // where MinIO listens, e.g. "http://127.0.0.1:9000"
	AccessKey  string       // MinIO root user
	SecretKey  string       // MinIO root password (MinIO needs >= 8 chars)
	MinIOBin   string       // optional explicit path; else FindMinIO()
	Logger     *slog.Logger // nil = slog.Default()

	NATSUser     string      // with NATSPassword: the only user NATS accepts
	NATSPassword string      // NATSUser's password
	NATSToken    string      // the token NATS requires
	NATSNKeys    []string    // public user NKeys ("U…") NATS accepts, each proving itself with its seed
	NATSTLS      *tls.Config // NATS requires TLS with this server configuration (client certificates too if its ClientAuth says so); Stack.NATSURL is then tls://
	// NATSServerOptions, if set, has the last word on the embedded server's options, for
	// settings without a field here (e.g. operator mode with JWT accounts).
	NATSServerOptions func(*server.Options)

	// MinIOCertsDir, if set, holds public.crt and private.key (PEM): MinIO serves HTTPS with
	// them (its --certs-dir) and Stack.S3Endpoint is https://, whatever S3Endpoint's scheme.
	// The stack's own health probes trust public.crt and any CA under MinIOCertsDir/CAs.
	MinIOCertsDir string

	// The MinIO started publishes the scans bucket's events to the embedded NATS (its NATS
	// notification target, S3-native ingest), signing in as NATS requires: with NATSUser/
	// NATSPassword or NATSToken, or with an NKey of its own that the stack adds to NATSNKeys.
	// With NATSTLS, MinIO trusts NATSCAFile for NATS's certificate and, when NATS asks for
	// one, shows NATSClientCertFile/NATSClientKeyFile. MinIOEnv is added last to MinIO's
	// environment, for what has no field here (e.g. MINIO_NOTIFY_NATS_USER_CREDENTIALS_COLOPHON
	// with NATSServerOptions' operator mode).
	NATSCAFile         string
	NATSClientCertFile string
	NATSClientKeyFile  string
	MinIOEnv           []string
}

func (c Config) validateSecurity() error {
	methods := 0
	if c.NATSUser != "" || c.NATSPassword != "" {
		if c.NATSUser == "" || c.NATSPassword == "" {
			return errors.New("NATSUser and NATSPassword go together")
		}
		methods++
	}
	if c.NATSToken != "" {
		methods++
	}
	if len(c.NATSNKeys) > 0 {
		methods++
	}
	if methods > 1 {
		return errors.New("set at most one of NATSUser/NATSPassword, NATSToken and NATSNKeys")
	}
	if c.MinIOCertsDir != "" {
		for _, f := range []string{"public.crt", "private.key"} {
			if _, err := os.Stat(filepath.Join(c.MinIOCertsDir, f)); err != nil {
				return fmt.Errorf("MinIOCertsDir: %w", err)
			}
		}
	}
	return nil
}

// Stack is a running development stack. Stop it with Stop.
type Stack struct {
	NATSURL      string // the URL clients should use (e.g. nats://127.0.0.1:PORT)
	S3Endpoint   string // the URL clients should use (http://127.0.0.1:PORT)
	StartedMinIO bool   // false when an S3 server already answered at S3Endpoint and was reused

	log  *slog.Logger
	nats *server.Server
	lock *dirLock

	mu    sync.Mutex
	minio *minioProc // nil when an existing S3 server was reused; replaced by a restart

	stopWatch context.CancelFunc // a stop from now on is deliberate, not a death
	watchDone chan struct{}      // closed when the watcher has returned (at once without MinIO)
	failed    chan struct{}      // closed when MinIO died and will not be restarted again
	failErr   error              // why; read only after failed is closed

	stopOnce sync.Once
	stopErr  error
}

// minioSpec is what starting MinIO takes, kept to start it again the same way.
type minioSpec struct {
	log       *slog.Logger
	cfg       Config
	probe     *http.Client
	endpoint  string
	dataDir   string
	notify    []string
	usedPorts []int
}

// minioProc is a MinIO child process and what we know about its exit.
type minioProc struct {
	pid    int
	output *ringBuffer
	done   chan struct{} // closed once the process has been waited for
	err    error         // Wait's result; read only after done is closed
}

// Start takes the data directory's lock (a *DataDirInUseError, ErrDataDirInUse, if another
// stack holds it), runs NATS (JetStream on, StoreDir DataDir/nats) in-process and waits
// until it accepts connections, then, unless an S3 server already answers at
// cfg.S3Endpoint, starts a MinIO child process and waits until it is healthy.
//
// ctx bounds only the start-up; the stack keeps running after ctx is done
// until Stop is called (or our process dies, which takes MinIO with it). A MinIO child
// that dies is logged at once and restarted (see minioRestarts); Failed reports when it
// no longer is.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "devstack")

	if cfg.DataDir == "" {
		return nil, errors.New("start devstack: DataDir is empty")
	}
	if err := cfg.validateSecurity(); err != nil {
		return nil, fmt.Errorf("start devstack: %w", err)
	}
	// Before anything else uses the directory: two stacks on one NATS store and one MinIO
	// drive lose and double documents.
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("start devstack: %w", err)
	}
	st, err := start(ctx, log, cfg)
	if err != nil {
		lock.release()
		return nil, err
	}
	st.lock = lock
	return st, nil
}

func start(ctx context.Context, log *slog.Logger, cfg Config) (*Stack, error) {
	natsHost, natsPort, err := parseNATSURL(cfg.NATSURL)
	if err != nil {
		return nil, fmt.Errorf("start devstack: %w", err)
	}
	s3Scheme, s3Host, s3Port, err := parseS3Endpoint(cfg.S3Endpoint)
	if err != nil {
		return nil, fmt.Errorf("start devstack: %w", err)
	}
	if cfg.MinIOCertsDir != "" {
		s3Scheme = "https"
	}
	if natsPort != 0 && natsPort == s3Port && natsHost == s3Host {
		return nil, fmt.Errorf("start devstack: NATS URL %q and S3 endpoint %q use the same address", redactURL(cfg.NATSURL), redactURL(cfg.S3Endpoint))
	}
	probe, err := newProbeClient(cfg.MinIOCertsDir)
	if err != nil {
		return nil, fmt.Errorf("start devstack: %w", err)
	}
	natsDir := filepath.Join(cfg.DataDir, "nats")
	minioDir := filepath.Join(cfg.DataDir, "minio")
	for _, dir := range []string{natsDir, minioDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("start devstack: create data dir: %w", err)
		}
	}

	// MinIO signs in to NATS with an NKey of its own when NATS takes NKeys: the stack knows
	// only the users' public keys.
	var minioSeedFile string
	if len(cfg.NATSNKeys) > 0 {
		pub, seedFile, err := minioNKey(cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("start devstack: %w", err)
		}
		cfg.NATSNKeys = append(slices.Clone(cfg.NATSNKeys), pub)
		minioSeedFile = seedFile
	}
	if cfg.NATSTLS != nil && cfg.NATSCAFile == "" {
		log.Warn("NATS requires TLS and NATSCAFile is not set: MinIO cannot verify NATS's certificate, and objects put straight into the scans bucket will not reach NATS")
	}

	ns, err := startNATS(ctx, log, cfg, natsHost, natsPort, natsDir)
	if err != nil {
		return nil, err
	}
	st := &Stack{NATSURL: ns.ClientURL(), log: log, nats: ns, stopWatch: func() {},
		watchDone: make(chan struct{}), failed: make(chan struct{})}

	if a, ok := ns.Addr().(*net.TCPAddr); ok {
		natsPort = a.Port // the real one if it was 0
	}
	// Port 0 means "any free port"; MinIO cannot report the port it picked,
	// so we pick it, accepting the small race until MinIO binds it.
	if s3Port == 0 {
		if s3Port, err = freePort(natsPort); err != nil {
			st.shutdownNATS()
			return nil, fmt.Errorf("start minio: pick port: %w", err)
		}
	}
	s3Addr := net.JoinHostPort(s3Host, strconv.Itoa(s3Port))
	st.S3Endpoint = s3Scheme + "://" + s3Addr

	if s3Answers(ctx, probe, st.S3Endpoint) {
		log.Info("reusing S3 server that already answers", "endpoint", st.S3Endpoint)
		close(st.watchDone) // not our child: nothing to watch
		return st, nil
	}
	if s3Scheme == "https" && cfg.MinIOCertsDir == "" {
		st.shutdownNATS()
		return nil, fmt.Errorf("start minio at %s: the S3 endpoint is https but MinIOCertsDir is not set, and MinIO serves HTTPS only with a certificate", s3Addr)
	}

	spec := &minioSpec{log: log, cfg: cfg, probe: probe, endpoint: st.S3Endpoint, dataDir: minioDir,
		notify:    notifyEnv(cfg, natsHost, natsPort, filepath.Join(cfg.DataDir, "minio-events"), minioSeedFile),
		usedPorts: []int{natsPort, s3Port}}
	if spec.cfg.MinIOBin == "" {
		// Found once: a restart runs the same binary.
		if spec.cfg.MinIOBin, err = FindMinIO(); err != nil {
			st.shutdownNATS()
			return nil, fmt.Errorf("start minio at %s: %w", s3Addr, err)
		}
	}
	mp, err := spec.start(ctx)
	if err != nil {
		st.shutdownNATS()
		return nil, err
	}
	st.minio = mp
	st.StartedMinIO = true
	watchCtx, stopWatch := context.WithCancel(context.Background())
	st.stopWatch = stopWatch
	go st.watchMinIO(watchCtx, spec, mp)
	log.Info("devstack ready", "nats", st.NATSURL, "s3", st.S3Endpoint, "minio_pid", mp.pid)
	return st, nil
}

// MinIOPID is the process ID of the MinIO child (the latest, after a restart), 0 when an
// S3 server already answered and was reused. Benchmarks read its CPU time from /proc.
func (s *Stack) MinIOPID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.minio == nil {
		return 0
	}
	return s.minio.pid
}

// Failed is closed when the stack can no longer serve S3: its MinIO child died and was not
// restarted again (Err says why). It is never closed for a reused S3 server, nor by Stop.
func (s *Stack) Failed() <-chan struct{} { return s.failed }

// Err is why the stack failed; nil while Failed is open.
func (s *Stack) Err() error {
	select {
	case <-s.failed:
		return s.failErr
	default:
		return nil
	}
}

// watchMinIO waits on the MinIO child and, when it dies of itself, logs it at once and
// starts it again on the same port and data, as often as minioRestarts allows.
func (s *Stack) watchMinIO(ctx context.Context, spec *minioSpec, mp *minioProc) {
	defer close(s.watchDone)
	var restarts []time.Time // when each restart in the window began
	for {
		select {
		case <-ctx.Done():
			return
		case <-mp.done:
		}
		if ctx.Err() != nil {
			return // Stop got there first: its own stop reports the state MinIO was in
		}
		why := fmt.Errorf("minio (pid %d) exited unexpectedly: %s", mp.pid, exitText(mp.err))
		s.log.Error("minio exited unexpectedly", "pid", mp.pid, "exit", exitText(mp.err),
			"output", spec.redact(mp.output.Tail(minioTailLines)))
		var next *minioProc
		for next == nil {
			restarts = slices.DeleteFunc(restarts, func(at time.Time) bool { return time.Since(at) > minioRestartWindow })
			if len(restarts) >= minioRestarts {
				s.failErr = fmt.Errorf("minio restarted %d times in %s and still not running, not restarting it again: %w", len(restarts), minioRestartWindow, why)
				s.log.Error("minio given up", "restarts", len(restarts), "window", minioRestartWindow.String(), "error", s.failErr.Error())
				close(s.failed)
				return
			}
			delay := minioRestartDelay << len(restarts)
			s.log.Warn("restarting minio", "attempt", len(restarts)+1, "max", minioRestarts, "in", delay.String())
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
			restarts = append(restarts, time.Now())
			started, err := spec.start(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				why = err
				s.log.Error("restart minio", "attempt", len(restarts), "error", spec.redact(err.Error()))
				continue
			}
			next = started
		}
		s.mu.Lock()
		mp, s.minio = next, next
		s.mu.Unlock()
		s.log.Info("restarted minio", "pid", mp.pid, "attempt", len(restarts))
	}
}

// exitText says how a process ended, from its Wait error.
func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// redact keeps the MinIO secret out of what is logged of MinIO's output.
func (m *minioSpec) redact(s string) string {
	if m.cfg.SecretKey == "" {
		return s
	}
	return strings.ReplaceAll(s, m.cfg.SecretKey, "xxxxx")
}

// Stop stops MinIO (SIGTERM to its process group, SIGKILL after 10 s), shuts NATS down and
// releases the data directory. It is safe to call more than once; later calls return the
// first call's result.
func (s *Stack) Stop() error {
	s.stopOnce.Do(func() {
		s.stopWatch()
		<-s.watchDone // no restart is under way: s.minio is the last one
		var errs []error
		if s.minio != nil && s.Err() == nil { // a MinIO given up on was reported then
			if err := s.minio.stop(s.log); err != nil {
				errs = append(errs, err)
			}
		}
		s.shutdownNATS()
		s.lock.release()
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

func (s *Stack) shutdownNATS() {
	s.nats.Shutdown()
	s.nats.WaitForShutdown()
}

// redactURL hides any credentials in a URL before it goes into an error message; a URL
// that does not parse is not repeated at all, since it may hold them.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.User != nil {
		u.User = url.User("xxxxx")
	}
	return u.String()
}

// parseNATSURL reads where NATS should listen. Credentials in the URL are ignored (the
// embedded server's are set by Config's NATS fields); the scheme may be tls:// too.
func parseNATSURL(raw string) (string, int, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", 0, fmt.Errorf("parse NATS URL %q: not a URL", redactURL(raw))
	}
	if (u.Scheme != "nats" && u.Scheme != "tls") || u.Hostname() == "" {
		return "", 0, fmt.Errorf("parse NATS URL %q: want nats://HOST[:PORT] or tls://HOST[:PORT]", redactURL(raw))
	}
	port := server.DEFAULT_PORT
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 0 || port > 65535 {
			return "", 0, fmt.Errorf("parse NATS URL %q: bad port %q", redactURL(raw), p)
		}
	}
	return u.Hostname(), port, nil
}

// parseS3Endpoint reads where MinIO should listen. An https endpoint is served by the
// MinIO we start only with MinIOCertsDir (Start checks), or by a server already there.
func parseS3Endpoint(raw string) (scheme, host string, port int, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", 0, fmt.Errorf("parse S3 endpoint %q: not a URL", redactURL(raw))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Port() == "" {
		return "", "", 0, fmt.Errorf("parse S3 endpoint %q: want http://HOST:PORT or https://HOST:PORT", redactURL(raw))
	}
	port, err = strconv.Atoi(u.Port())
	if err != nil || port < 0 || port > 65535 {
		return "", "", 0, fmt.Errorf("parse S3 endpoint %q: bad port %q", redactURL(raw), u.Port())
	}
	return u.Scheme, u.Hostname(), port, nil
}

// startNATS runs the embedded NATS server and waits until it accepts clients.
func startNATS(ctx context.Context, log *slog.Logger, cfg Config, host string, port int, storeDir string) (*server.Server, error) {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	if port == 0 {
		port = server.RANDOM_PORT // in NATS options 0 means "default port"
	}
	opts := &server.Options{
		ServerName:    "colophon-dev",
		Host:          host,
		Port:          port,
		JetStream:     true,
		StoreDir:      storeDir,
		NoSigs:        true, // signals belong to our process, not the embedded server
		Username:      cfg.NATSUser,
		Password:      cfg.NATSPassword,
		Authorization: cfg.NATSToken,
	}
	for _, k := range cfg.NATSNKeys {
		opts.Nkeys = append(opts.Nkeys, &server.NkeyUser{Nkey: k})
	}
	if cfg.NATSTLS != nil {
		opts.TLSConfig = cfg.NATSTLS.Clone()
		opts.TLS = true
		opts.TLSVerify = cfg.NATSTLS.ClientAuth == tls.RequireAndVerifyClientCert
	}
	if cfg.NATSServerOptions != nil {
		cfg.NATSServerOptions(opts)
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("start nats at %s: %w", addr, err)
	}
	nl := &natsLogger{log: log.With("server", "nats")}
	ns.SetLoggerV2(nl, false, false, false)
	ns.Start() // returns once JetStream is enabled and the listener is set up (or failed)

	fail := func(err error) (*server.Server, error) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("start nats at %s: %w", addr, err)
	}
	deadline := time.Now().Add(natsReadyTimeout)
	for {
		// The server reports start-up failures (port in use, JetStream store
		// unusable) only through Fatalf, so check for one before waiting.
		if msg := nl.fatal(); msg != "" {
			return fail(errors.New(msg))
		}
		if ns.ReadyForConnections(100 * time.Millisecond) {
			return ns, nil
		}
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		if time.Now().After(deadline) {
			return fail(fmt.Errorf("not ready after %s", natsReadyTimeout))
		}
	}
}

// newProbeClient returns the client for the stack's own probes of the S3 endpoint. It talks
// to the endpoint directly (no proxy from the environment) and keeps no idle connections to
// a server we may kill. For HTTPS it trusts the system roots and, with certsDir, the
// certificate MinIO serves (public.crt) and the CAs MinIO is given (certsDir/CAs).
func newProbeClient(certsDir string) (*http.Client, error) {
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true}
	if certsDir != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		files := []string{filepath.Join(certsDir, "public.crt")}
		cas, _ := filepath.Glob(filepath.Join(certsDir, "CAs", "*"))
		files = append(files, cas...)
		for _, f := range files {
			pem, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("MinIOCertsDir: %w", err)
			}
			if !pool.AppendCertsFromPEM(pem) && f == files[0] {
				return nil, fmt.Errorf("MinIOCertsDir: no PEM certificate in %s", f)
			}
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr}, nil
}

// s3Answers reports whether anything speaks HTTP at endpoint. Any answer
// counts: a foreign S3 server may not implement MinIO's health path.
func s3Answers(ctx context.Context, probeClient *http.Client, endpoint string) bool {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/minio/health/live", nil)
	if err != nil {
		return false
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		// A TLS server whose certificate the probe cannot verify answers all the same; the
		// clients, given its CA, verify it themselves.
		var cv *tls.CertificateVerificationError
		return errors.As(err, &cv)
	}
	resp.Body.Close()
	return true
}

// minioHealthy reports whether MinIO is ready to serve requests. The liveness endpoint
// answers 200 before MinIO can serve bucket calls (a first EnsureBuckets then failed with
// XMinioServerNotInitialized about one start in ten); the cluster endpoint answers 503
// until it can.
func minioHealthy(ctx context.Context, probeClient *http.Client, endpoint string) bool {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/minio/health/cluster", nil)
	if err != nil {
		return false
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// start starts the MinIO child serving endpoint and waits until it is healthy. usedPorts
// are kept clear of MinIO's console port.
func (m *minioSpec) start(ctx context.Context) (*minioProc, error) {
	log, cfg, probe, endpoint, dataDir := m.log, m.cfg, m.probe, m.endpoint, m.dataDir
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("start minio at %s: %w", endpoint, err)
	}
	addr := u.Host
	wrap := func(err error) error { return fmt.Errorf("start minio at %s: %w", addr, err) }

	bin := cfg.MinIOBin
	if err := checkExecutable(bin); err != nil {
		return nil, wrap(fmt.Errorf("MinIOBin: %w", err))
	}
	// MinIO refuses shorter credentials; say so before it gets to.
	if len(cfg.AccessKey) < 3 || len(cfg.SecretKey) < 8 {
		return nil, wrap(errors.New("AccessKey must have at least 3 characters and SecretKey at least 8"))
	}
	consolePort, err := freePort(m.usedPorts...)
	if err != nil {
		return nil, wrap(fmt.Errorf("pick console port: %w", err))
	}

	out := newRingBuffer(minioOutputLimit)
	args := []string{"server", dataDir,
		"--address", addr,
		"--console-address", net.JoinHostPort("127.0.0.1", strconv.Itoa(consolePort))}
	if cfg.MinIOCertsDir != "" {
		args = append(args, "--certs-dir", cfg.MinIOCertsDir)
	}
	cmd := exec.Command(bin, args...)
	// Later entries win, so these override anything inherited.
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+cfg.AccessKey,
		"MINIO_ROOT_PASSWORD="+cfg.SecretKey,
		"MINIO_BROWSER=off",
	)
	cmd.Env = append(append(cmd.Env, m.notify...), cfg.MinIOEnv...)
	cmd.Stdout = out
	cmd.Stderr = out
	// Setpgid: a terminal's Ctrl-C reaches only us, and Stop can signal the
	// whole group. Pdeathsig: the kernel kills MinIO if we die, even by
	// SIGKILL, so no orphan keeps the port and data dir busy.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	// Don't let a grandchild holding the output pipe block Wait forever.
	cmd.WaitDelay = 5 * time.Second

	mp := &minioProc{output: out, done: make(chan struct{})}
	started := make(chan error, 1)
	// Pdeathsig fires when the *thread* that forked the child exits, and Go
	// may retire threads. Fork from a goroutine locked to its thread and keep
	// that goroutine (and thread) alive in Wait for the child's lifetime.
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		mp.pid = cmd.Process.Pid
		started <- nil
		mp.err = cmd.Wait()
		close(mp.done)
	}()
	if err := <-started; err != nil {
		return nil, wrap(err)
	}
	log.Info("started minio", "pid", mp.pid, "bin", bin, "endpoint", endpoint, "data", dataDir)

	waitCtx, cancel := context.WithTimeout(ctx, minioReadyTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if minioHealthy(waitCtx, probe, endpoint) {
			return mp, nil
		}
		select {
		case <-mp.done:
			return nil, wrap(fmt.Errorf("minio exited before becoming healthy: %v; output:\n%s", mp.err, out.String()))
		case <-waitCtx.Done():
			mp.kill()
			<-mp.done
			why := waitCtx.Err()
			if ctx.Err() == nil { // our own deadline, not the caller's
				why = fmt.Errorf("not healthy after %s", minioReadyTimeout)
			}
			return nil, wrap(fmt.Errorf("%w; output:\n%s", why, out.String()))
		case <-tick.C:
		}
	}
}

// notifyEnv is MinIO's NATS notification target (ID pipeline.NotifyTargetID): the scans
// bucket's events go to SubjectS3Events through JetStream. Events MinIO cannot deliver at
// once (NATS down, the stream not made yet) wait in queueDir and are sent again, rather than
// being lost.
func notifyEnv(cfg Config, natsHost string, natsPort int, queueDir, seedFile string) []string {
	host := natsHost
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1" // listening on every address: MinIO is on this machine
	}
	queueDir, _ = filepath.Abs(queueDir) // MinIO wants an absolute path
	id := "_" + pipeline.NotifyTargetID
	env := []string{
		"MINIO_NOTIFY_NATS_ENABLE" + id + "=on",
		"MINIO_NOTIFY_NATS_ADDRESS" + id + "=" + net.JoinHostPort(host, strconv.Itoa(natsPort)),
		"MINIO_NOTIFY_NATS_SUBJECT" + id + "=" + pipeline.SubjectS3Events,
		"MINIO_NOTIFY_NATS_JETSTREAM" + id + "=on",
		"MINIO_NOTIFY_NATS_QUEUE_DIR" + id + "=" + queueDir,
	}
	switch {
	case cfg.NATSUser != "":
		env = append(env, "MINIO_NOTIFY_NATS_USERNAME"+id+"="+cfg.NATSUser, "MINIO_NOTIFY_NATS_PASSWORD"+id+"="+cfg.NATSPassword)
	case cfg.NATSToken != "":
		env = append(env, "MINIO_NOTIFY_NATS_TOKEN"+id+"="+cfg.NATSToken)
	case seedFile != "":
		env = append(env, "MINIO_NOTIFY_NATS_NKEY_SEED"+id+"="+seedFile)
	}
	if cfg.NATSTLS != nil {
		env = append(env, "MINIO_NOTIFY_NATS_TLS"+id+"=on")
		if cfg.NATSCAFile != "" {
			env = append(env, "MINIO_NOTIFY_NATS_CERT_AUTHORITY"+id+"="+cfg.NATSCAFile)
		}
		if cfg.NATSClientCertFile != "" {
			env = append(env, "MINIO_NOTIFY_NATS_CLIENT_CERT"+id+"="+cfg.NATSClientCertFile, "MINIO_NOTIFY_NATS_CLIENT_KEY"+id+"="+cfg.NATSClientKeyFile)
		}
	}
	return env
}

// minioNKey makes (once) the NKey MinIO signs in to NATS with, its seed in a file under
// dataDir only we can read, and returns its public key and the seed file.
func minioNKey(dataDir string) (pub, seedFile string, err error) {
	seedFile = filepath.Join(dataDir, "minio-nats.nk")
	seed, err := os.ReadFile(seedFile)
	if errors.Is(err, os.ErrNotExist) {
		kp, kerr := nkeys.CreateUser()
		if kerr != nil {
			return "", "", fmt.Errorf("make MinIO's NATS NKey: %w", kerr)
		}
		if seed, err = kp.Seed(); err == nil {
			err = os.WriteFile(seedFile, seed, 0o600)
		}
	}
	if err != nil {
		return "", "", fmt.Errorf("MinIO's NATS NKey: %w", err)
	}
	kp, err := nkeys.FromSeed(seed)
	if err != nil {
		return "", "", fmt.Errorf("MinIO's NATS NKey in %s: %w", seedFile, err)
	}
	if pub, err = kp.PublicKey(); err != nil {
		return "", "", fmt.Errorf("MinIO's NATS NKey: %w", err)
	}
	seedFile, _ = filepath.Abs(seedFile)
	return pub, seedFile, nil
}

// signal sends sig to the MinIO process group.
func (m *minioProc) signal(sig syscall.Signal) error {
	err := syscall.Kill(-m.pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil // already gone
	}
	return err
}

func (m *minioProc) kill() { _ = m.signal(syscall.SIGKILL) }

// stop terminates MinIO gracefully, forcefully after minioStopGrace.
func (m *minioProc) stop(log *slog.Logger) error {
	select {
	case <-m.done:
		// Exiting on its own is not a normal shutdown; say so with its output.
		return fmt.Errorf("stop minio (pid %d): it had already exited: %v; output:\n%s", m.pid, m.err, m.output.String())
	default:
	}
	if err := m.signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop minio (pid %d): %w", m.pid, err)
	}
	timer := time.NewTimer(minioStopGrace)
	defer timer.Stop()
	select {
	case <-m.done:
		log.Info("stopped minio", "pid", m.pid)
		return nil
	case <-timer.C:
	}
	log.Warn("minio ignored SIGTERM, killing it", "pid", m.pid, "grace", minioStopGrace)
	if err := m.signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill minio (pid %d): %w", m.pid, err)
	}
	<-m.done
	return nil
}

// FindMinIO looks for the MinIO binary: $COLOPHON_MINIO_BIN if set, then
// `minio` on PATH, then $GOBIN/minio, then $(go env GOPATH)/bin/minio.
func FindMinIO() (string, error) {
	if p := os.Getenv("COLOPHON_MINIO_BIN"); p != "" {
		// An explicit setting that is wrong is an error, not a reason to
		// silently use some other binary.
		if err := checkExecutable(p); err != nil {
			return "", fmt.Errorf("COLOPHON_MINIO_BIN: %w", err)
		}
		return p, nil
	}
	looked := []string{"$COLOPHON_MINIO_BIN (unset)", "PATH"}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	// `go install` puts binaries in GOBIN if set, else GOPATH/bin.
	var candidates []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		candidates = append(candidates, filepath.Join(gobin, "minio"))
	}
	for _, dir := range filepath.SplitList(goPath()) {
		if dir != "" {
			candidates = append(candidates, filepath.Join(dir, "bin", "minio"))
		}
	}
	for _, c := range candidates {
		if checkExecutable(c) == nil {
			return c, nil
		}
		looked = append(looked, c)
	}
	return "", fmt.Errorf("minio server not found (looked in %s); install it with: %s", strings.Join(looked, ", "), MinIOInstallCommand)
}

// goPath returns GOPATH: the environment, else `go env GOPATH` (which knows
// about `go env -w`), else the Go default $HOME/go.
func goPath() string {
	if p := os.Getenv("GOPATH"); p != "" {
		return p
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "env", "GOPATH").Output(); err == nil {
		if p := strings.TrimSpace(string(out)); p != "" {
			return p
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, "go")
	}
	return ""
}

// checkExecutable returns an error naming path unless it is an executable
// regular file.
func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err // *PathError already names the path
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not executable", path)
	}
	return nil
}

// freePort asks the kernel for a free loopback port other than exclude.
// Another process may take it before we use it; that is accepted for a
// development stack. The exclusions matter because Linux readily hands out the
// same port again right after it was closed, e.g. the S3 port MinIO has not
// bound yet.
func freePort(exclude ...int) (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !slices.Contains(exclude, port) {
			return port, nil
		}
	}
	return 0, errors.New("no free port found that is not already in use by the stack")
}

// natsLogger forwards the embedded server's log to slog and remembers the
// first fatal message, which is how the server reports start-up failures.
// Fatalf must not exit: the default NATS logger would take our process down.
type natsLogger struct {
	log *slog.Logger

	mu       sync.Mutex
	fatalMsg string
}

func (l *natsLogger) fatal() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatalMsg
}

// Notices are the start-up banner and similar chatter: debug level.
func (l *natsLogger) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Errorf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Debugf(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Tracef(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }

func (l *natsLogger) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.log.Error(msg)
	l.mu.Lock()
	if l.fatalMsg == "" {
		l.fatalMsg = msg
	}
	l.mu.Unlock()
}
