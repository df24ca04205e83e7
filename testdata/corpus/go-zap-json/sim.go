// Shared body of the Go logging programs: a small "pod sync agent" that runs
// a local HTTP API, reconciles pods against it with timeouts, retries and
// conflicts, then shuts down. Each main.go supplies the Logger adapter.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

type Logger interface {
	Trace(msg string, kv ...any)
	Debug(msg string, kv ...any)
	Info(msg string, kv ...any)
	Warn(msg string, kv ...any)
	Error(msg string, err error, kv ...any)
	Fatal(msg string, kv ...any)
}

type pod struct {
	Name    string `json:"name"`
	NS      string `json:"namespace"`
	Image   string `json:"image"`
	Phase   string `json:"phase"`
	Version int    `json:"resourceVersion"`
}

var errConflict = errors.New("the object has been modified; please apply your changes to the latest version and try again")

type api struct {
	mu   sync.Mutex
	pods map[string]*pod
	rnd  *rand.Rand
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	x := a.rnd.Float64()
	a.mu.Unlock()
	key := strings.TrimPrefix(r.URL.Path, "/api/v1/pods/")
	switch {
	case r.URL.Path == "/healthz":
		io.WriteString(w, "ok")
	case x < 0.05:
		time.Sleep(120 * time.Millisecond)
		io.WriteString(w, `{}`)
	case x < 0.09:
		http.Error(w, "etcdserver: request timed out", http.StatusInternalServerError)
	case x < 0.12:
		io.WriteString(w, `{"name": "`+key+`", "phase": `)
	case x < 0.18 && r.Method == http.MethodPut:
		http.Error(w, errConflict.Error(), http.StatusConflict)
	default:
		a.mu.Lock()
		p, ok := a.pods[key]
		a.mu.Unlock()
		if !ok {
			http.Error(w, "pods \""+key+"\" not found", http.StatusNotFound)
			return
		}
		json.NewEncoder(w).Encode(p)
	}
}

type agent struct {
	L      Logger
	base   string
	client *http.Client
	rnd    *rand.Rand
}

func (g *agent) get(ctx context.Context, key string) (*pod, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.base+"/api/v1/pods/"+key, nil)
	resp, err := g.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %d %s: %s", key, resp.StatusCode, http.StatusText(resp.StatusCode), strings.TrimSpace(string(body)))
	}
	var p pod
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("decoding pod %s: %w", key, err)
	}
	return &p, nil
}

func (g *agent) put(key string) error {
	req, _ := http.NewRequest(http.MethodPut, g.base+"/api/v1/pods/"+key+"/status", strings.NewReader(`{"phase":"Running"}`))
	resp, err := g.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode == http.StatusConflict {
		return fmt.Errorf("Operation cannot be fulfilled on pods %q: %w", key, errConflict)
	}
	return nil
}

func (g *agent) reconcile(ctx context.Context, key string) {
	start := time.Now()
	g.L.Trace("reconcile start", "pod", key)
	p, err := g.get(ctx, key)
	switch {
	case err != nil && errors.Is(err, context.DeadlineExceeded):
		g.L.Warn("timed out fetching pod, requeueing", "pod", key, "timeout", "60ms", "requeueAfter", "2s")
		return
	case err != nil && strings.Contains(err.Error(), " 404 "):
		g.L.Info("pod deleted before sync, dropping from queue", "pod", key)
		return
	case err != nil:
		g.L.Error("failed to sync pod", err, "pod", key)
		return
	}
	g.L.Debug("fetched pod", "pod", key, "phase", p.Phase, "resourceVersion", p.Version)
	if p.Phase == "Pending" {
		if g.rnd.Float64() < 0.3 {
			g.L.Warn("Back-off pulling image", "pod", key, "image", p.Image, "reason", "ImagePullBackOff")
			return
		}
		g.L.Info("Started container", "pod", key, "container", strings.Split(p.Name, "-")[0], "image", p.Image)
	}
	for attempt := 1; attempt <= 3; attempt++ {
		err = g.put(key)
		if err == nil {
			break
		}
		if errors.Is(err, errConflict) && attempt < 3 {
			g.L.Debug("status update conflict, retrying", "pod", key, "attempt", attempt)
			continue
		}
		g.L.Error("error updating pod status", err, "pod", key, "attempts", attempt)
		return
	}
	g.L.Info("pod synced", "pod", key, "phase", "Running", "duration", time.Since(start).Round(time.Microsecond).String())
}

func run(L Logger, seed int64) {
	rnd := rand.New(rand.NewSource(seed))
	L.Info("starting pod sync agent", "version", "v1.8.3", "goVersion", "go1.19.8", "nodeName", "worker-2")
	a := &api{pods: map[string]*pod{}, rnd: rand.New(rand.NewSource(seed + 1))}
	images := []string{"nginx:1.25", "redis:7.2", "ghcr.io/acme/api:3.1.0", "busybox:1.36", "postgres:16"}
	var keys []string
	for i := 0; i < 40; i++ {
		ns := []string{"default", "kube-system", "payments"}[i%3]
		name := fmt.Sprintf("%s-%05x", strings.Split(strings.Split(images[i%5], ":")[0], "/")[len(strings.Split(strings.Split(images[i%5], ":")[0], "/"))-1], rnd.Intn(1<<20))
		key := ns + "/" + name
		a.pods[key] = &pod{Name: name, NS: ns, Image: images[i%5], Phase: []string{"Pending", "Running"}[rnd.Intn(2)], Version: 1000 + i}
		keys = append(keys, key)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		L.Fatal("cannot listen", "error", err.Error())
	}
	srv := &http.Server{Handler: a}
	go srv.Serve(ln)
	L.Info("API server listening", "address", ln.Addr().String())
	L.Debug("loaded configuration", "syncPeriod", "10s", "workers", 2, "qps", 50, "burst", 100)
	g := &agent{L: L, base: "http://" + ln.Addr().String(), client: &http.Client{}, rnd: rnd}
	ctx := context.Background()
	for round := 1; round <= 6; round++ {
		L.Info("starting sync round", "round", round, "queueLength", len(keys))
		for _, k := range keys {
			if rnd.Float64() < 0.5 {
				g.reconcile(ctx, k)
			}
			if rnd.Float64() < 0.01 {
				g.reconcile(ctx, "default/ghost-"+fmt.Sprint(rnd.Intn(999)))
			}
		}
		if round == 3 {
			L.Warn("lease renewal took longer than expected", "lease", "kube-node-lease/worker-2", "elapsed", "2.3s", "limit", "2s")
		}
		if round == 4 {
			_, err := net.DialTimeout("tcp", "127.0.0.1:1", 50*time.Millisecond)
			L.Error("metrics push failed", err, "endpoint", "127.0.0.1:1")
		}
		L.Info("sync round complete", "round", round, "memAllocMB", 12+rnd.Intn(9))
	}
	L.Info("received signal, shutting down", "signal", "terminated")
	sctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		L.Error("server shutdown", err)
	}
	L.Info("shutdown complete")
}
