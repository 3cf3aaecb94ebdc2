package devstacktest

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Account is the account JetStream assets live in on a server without accounts configured.
const Account = server.DEFAULT_GLOBAL_ACCOUNT

// clusterReadyTimeout bounds a test cluster's start-up: routes, then the JetStream meta
// group's first election (a few seconds).
const clusterReadyTimeout = 60 * time.Second

// Cluster is a NATS cluster of embedded servers with JetStream, for tests: each server has
// its own store directory, client and route ports on loopback, and a unique name.
type Cluster struct {
	Servers []*server.Server
	URLs    []string // client URLs, Servers[i] at URLs[i]
}

// StartCluster starts n clustered servers and waits until JetStream has a meta leader and
// every server is current with it. They are shut down in t.Cleanup.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	clientPorts, routePorts, dirs := make([]int, n), make([]int, n), make([]string, n)
	var routes []string
	for i := range n {
		clientPorts[i], routePorts[i] = FreePort(t), FreePort(t)
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", routePorts[i]))
		dirs[i] = t.TempDir()
	}
	log := Logger(t)
	c := &Cluster{}
	// Registered after the directories and the log, so it runs before they go (LIFO).
	t.Cleanup(func() {
		for _, s := range c.Servers {
			s.Shutdown()
			s.WaitForShutdown()
		}
	})
	for i := range n {
		name := fmt.Sprintf("colophon-test-%d", i+1)
		opts := &server.Options{
			ServerName: name,
			Host:       "127.0.0.1",
			Port:       clientPorts[i],
			JetStream:  true,
			StoreDir:   filepath.Join(dirs[i], name),
			NoSigs:     true,
			Cluster: server.ClusterOpts{
				Name: "colophon-test",
				Host: "127.0.0.1",
				Port: routePorts[i],
			},
			Routes: server.RoutesFromStr(strings.Join(routes, ",")), // its own is skipped
		}
		s, err := server.NewServer(opts)
		if err != nil {
			t.Fatalf("devstacktest: cluster server %s: %v", name, err)
		}
		s.SetLoggerV2(&serverLog{log: log.With("server", name)}, false, false, false)
		c.Servers = append(c.Servers, s)
		s.Start()
		c.URLs = append(c.URLs, s.ClientURL())
	}
	for i, s := range c.Servers {
		if !s.ReadyForConnections(10 * time.Second) {
			t.Fatalf("devstacktest: cluster server %d not ready for connections", i+1)
		}
	}
	c.waitForMetaLeader(t, clusterReadyTimeout)
	return c
}

// URL is every server's client URL, comma-separated, as COLOPHON_NATS_URL takes them.
func (c *Cluster) URL() string { return strings.Join(c.URLs, ",") }

// MetaLeader is the index of the server leading the JetStream meta group, -1 if none does.
func (c *Cluster) MetaLeader() int {
	for i, s := range c.Servers {
		if s.Running() && s.JetStreamIsLeader() {
			return i
		}
	}
	return -1
}

func (c *Cluster) waitForMetaLeader(t testing.TB, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if c.MetaLeader() >= 0 {
			current := true
			for _, s := range c.Servers {
				current = current && (!s.Running() || s.JetStreamIsCurrent())
			}
			if current {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("devstacktest: no JetStream meta leader with every server current after %s", d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop shuts server i down, as a node that goes away.
func (c *Cluster) Stop(i int) {
	c.Servers[i].Shutdown()
	c.Servers[i].WaitForShutdown()
}

// serverLog sends a server's warnings and errors to the test log; its notices (banner,
// elections) are debug chatter. Fatalf must not exit the test binary.
type serverLog struct{ log *slog.Logger }

func (l *serverLog) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *serverLog) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l *serverLog) Errorf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *serverLog) Fatalf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *serverLog) Debugf(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *serverLog) Tracef(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
