package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/devstack"
	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
)

// Clusters of real server processes, for tests that kill a node with kill -9: nothing runs
// its shutdown, as when a machine or a container dies.

// natsServerModule is the NATS server the project pins in go.mod (and embeds for `dev`).
const natsServerModule = "github.com/nats-io/nats-server/v2"

var (
	natsBinOnce sync.Once
	natsBinPath string
	natsBinErr  error
)

// natsServerBinary builds the nats-server of the version go.mod pins, kept under the user's
// cache directory by version (and Go toolchain), so it is built once and again only when
// the pin moves.
func natsServerBinary(t *testing.T) string {
	t.Helper()
	natsBinOnce.Do(func() { natsBinPath, natsBinErr = buildNATSServer() })
	if natsBinErr != nil {
		t.Fatalf("nats-server binary: %v", natsBinErr)
	}
	return natsBinPath
}

func buildNATSServer() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Version}}", natsServerModule).Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %w", natsServerModule, err)
	}
	version := strings.TrimSpace(string(out))
	// The user's cache, else (no home, or a read-only one, as on some CI runners) the
	// temporary directory.
	dir := ""
	for _, base := range []func() (string, error){os.UserCacheDir, func() (string, error) { return os.TempDir(), nil }} {
		b, err := base()
		if err != nil {
			continue
		}
		if d := filepath.Join(b, "colophon"); os.MkdirAll(d, 0o755) == nil {
			dir = d
			break
		}
	}
	if dir == "" {
		return "", errors.New("no writable cache or temporary directory to keep nats-server in")
	}
	bin := filepath.Join(dir, fmt.Sprintf("nats-server-%s-%s", version, runtime.Version()))
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return bin, nil
	}
	// Built beside it and renamed: another test process building at the same time never
	// sees half a binary.
	tmp := fmt.Sprintf("%s.tmp-%d", bin, os.Getpid())
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", tmp, natsServerModule).CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("go build %s@%s: %v\n%s", natsServerModule, version, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return bin, nil
}

// natsNode is one nats-server process of a natsProcCluster.
type natsNode struct {
	name    string
	url     string // client URL
	monitor string // monitoring endpoint, http://host:port
	p       *proc
}

// natsProcCluster is a NATS cluster of nats-server processes with JetStream, each with its
// own store directory and client, route and monitoring ports on loopback.
type natsProcCluster struct {
	nodes []*natsNode
}

// startNATSProcCluster starts n clustered servers and waits until every one is healthy and
// agrees on a JetStream meta leader. They are killed when the test ends.
func startNATSProcCluster(t *testing.T, n int) *natsProcCluster {
	t.Helper()
	bin := natsServerBinary(t)
	clientPorts, routePorts := make([]int, n), make([]int, n)
	var routes []string
	for i := range n {
		clientPorts[i], routePorts[i] = devstacktest.FreePort(t), devstacktest.FreePort(t)
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", routePorts[i]))
	}
	c := &natsProcCluster{}
	for i := range n {
		name := fmt.Sprintf("colophon-nats-%d", i+1)
		mon := devstacktest.FreePort(t)
		node := &natsNode{
			name:    name,
			url:     fmt.Sprintf("nats://127.0.0.1:%d", clientPorts[i]),
			monitor: fmt.Sprintf("http://127.0.0.1:%d", mon),
		}
		node.p = startExec(t, name, bin, nil,
			"--name", name, "--addr", "127.0.0.1", "--port", fmt.Sprint(clientPorts[i]), "--http_port", fmt.Sprint(mon),
			"--jetstream", "--store_dir", filepath.Join(t.TempDir(), name),
			"--cluster_name", "colophon-hardkill", "--cluster", fmt.Sprintf("nats://127.0.0.1:%d", routePorts[i]),
			"--routes", strings.Join(routes, ","))
		c.nodes = append(c.nodes, node)
	}
	waitFor(t, 90*time.Second, "every NATS server healthy with one JetStream meta leader", func() bool {
		leader := ""
		for _, node := range c.nodes {
			if !node.p.running() {
				t.Fatalf("%s exited:\n%s", node.name, node.p.output())
			}
			if code, _ := httpGet(t, node.monitor+"/healthz"); code != http.StatusOK {
				return false
			}
			l := node.metaLeader(t)
			if l == "" || (leader != "" && l != leader) {
				return false
			}
			leader = l
		}
		return true
	})
	return c
}

// URL is every server's client URL, comma-separated, as COLOPHON_NATS_URL takes them.
func (c *natsProcCluster) URL() string {
	var urls []string
	for _, n := range c.nodes {
		urls = append(urls, n.url)
	}
	return strings.Join(urls, ",")
}

// metaLeader is the JetStream meta leader's name as the nodes still running see it; "" if
// none knows one.
func (c *natsProcCluster) metaLeader(t *testing.T) string {
	for _, n := range c.nodes {
		if n.p.running() {
			if l := n.metaLeader(t); l != "" {
				return l
			}
		}
	}
	return ""
}

// serving is the node a client connection of that name is on, nil if no running node has it.
func (c *natsProcCluster) serving(t *testing.T, conn string) *natsNode {
	for _, n := range c.nodes {
		if !n.p.running() {
			continue
		}
		var z struct {
			Connections []struct {
				Name string `json:"name"`
			} `json:"connections"`
		}
		if getJSON(t, n.monitor+"/connz", &z) != nil {
			continue
		}
		for _, cn := range z.Connections {
			if cn.Name == conn {
				return n
			}
		}
	}
	return nil
}

// metaLeader is the JetStream meta leader's name as this node sees it, "" if it does not know.
func (n *natsNode) metaLeader(t *testing.T) string {
	var z struct {
		Meta *struct {
			Leader string `json:"leader"`
		} `json:"meta_cluster"`
	}
	if getJSON(t, n.monitor+"/jsz", &z) != nil || z.Meta == nil {
		return ""
	}
	return z.Meta.Leader
}

// minioProcCluster is a distributed MinIO of minio server processes, each node its own
// process, port and drive, the drives in one erasure set (4 drives: EC:2 by default, so
// writes keep their quorum with 3).
type minioProcCluster struct {
	endpoints []string // S3 endpoints, node i at endpoints[i]
	procs     []*proc
}

func startMinIOCluster(t *testing.T, n int) *minioProcCluster {
	t.Helper()
	bin, err := devstack.FindMinIO()
	if err != nil {
		t.Fatal(err)
	}
	c := &minioProcCluster{}
	addrs, drives := make([]string, n), make([]string, n)
	root := t.TempDir()
	for i := range n {
		addrs[i] = fmt.Sprintf("127.0.0.1:%d", devstacktest.FreePort(t))
		dir := filepath.Join(root, fmt.Sprintf("drive%d", i+1))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		// Listed one by one: MinIO's {1...n} expands host and path as a product.
		drives[i] = "http://" + addrs[i] + dir
		c.endpoints = append(c.endpoints, "http://"+addrs[i])
	}
	for i := range n {
		env := []string{
			"MINIO_ROOT_USER=" + devstacktest.AccessKey, "MINIO_ROOT_PASSWORD=" + devstacktest.SecretKey, "MINIO_BROWSER=off",
			// The drives are directories on the root disk, which distributed MinIO refuses
			// to use unless told it is a test.
			"MINIO_CI_CD=on",
			// In a container MinIO will not take a loopback endpoint as its own (it waits for
			// it to resolve to another address): this names the one that is.
			"_MINIO_SERVER_LOCAL=" + addrs[i],
		}
		console := fmt.Sprintf("127.0.0.1:%d", devstacktest.FreePort(t))
		args := append([]string{"server", "--address", addrs[i], "--console-address", console, "--quiet"}, drives...)
		c.procs = append(c.procs, startExec(t, fmt.Sprintf("minio-%d", i+1), bin, env, args...))
	}
	waitFor(t, 120*time.Second, "every MinIO node serving with write quorum", func() bool {
		for i, p := range c.procs {
			if !p.running() {
				t.Fatalf("MinIO node %d exited:\n%s", i+1, p.output())
			}
			if code, _ := httpGet(t, c.endpoints[i]+"/minio/health/cluster"); code != http.StatusOK {
				return false
			}
		}
		return true
	})
	return c
}

// getJSON decodes what a GET of url answers, if it answers 200.
func getJSON(t *testing.T, url string, v any) error {
	code, body := httpGet(t, url)
	if code != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", url, code, body)
	}
	return json.Unmarshal([]byte(body), v)
}
