package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check is one condition of readiness: Run returns nil when it holds.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// CheckTimeout bounds each readiness check: an orchestrator's probe gives up after a few
// seconds, and a check that hangs (a request to a NATS that is away) must answer first.
const CheckTimeout = 2 * time.Second

// Readiness answers /readyz. Until Set is called (the process is still connecting to NATS
// and S3) it is not ready.
type Readiness struct {
	checks atomic.Pointer[[]Check]
}

// Set gives the checks /readyz runs from now on.
func (r *Readiness) Set(checks ...Check) { r.checks.Store(&checks) }

// ServeHTTP runs every check at once and answers 200 when all hold, 503 otherwise, with a
// line per check: "name: ok" or "name: FAIL: reason".
func (r *Readiness) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	checks := r.checks.Load()
	if checks == nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "starting: FAIL: not connected to NATS and S3 yet")
		return
	}
	errs := make([]error, len(*checks))
	var wg sync.WaitGroup
	for i, c := range *checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(req.Context(), CheckTimeout)
			defer cancel()
			errs[i] = c.Run(ctx)
		}()
	}
	wg.Wait()
	var body strings.Builder
	status := http.StatusOK
	for i, c := range *checks {
		if errs[i] != nil {
			status = http.StatusServiceUnavailable
			fmt.Fprintf(&body, "%s: FAIL: %v\n", c.Name, errs[i])
		} else {
			fmt.Fprintf(&body, "%s: ok\n", c.Name)
		}
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body.String()))
}

// Handler serves /metrics (m's registry, Prometheus text or protobuf as the scraper asks),
// /healthz (200 while the process serves: it is alive) and /readyz (ready's checks).
func Handler(m *Metrics, ready *Readiness) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /readyz", ready)
	return mux
}

// Serve listens on addr and serves h until ctx ends. It returns once listening, with the
// address (the real port when addr asks for port 0), so a taken port fails the command at
// start rather than going unnoticed.
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "error", err.Error())
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return ln.Addr(), nil
}
