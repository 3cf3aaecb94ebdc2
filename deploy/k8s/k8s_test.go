package k8s_test

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/colophon-archive/colophon/internal/provenance"
	"github.com/colophon-archive/colophon/pipeline"
)

// The kustomizations under test, relative to this directory.
const (
	baseDir    = "base"
	exampleDir = "overlays/example"
	namespace  = "colophon"
	// The user the images run as (deploy/colophon.Dockerfile, deploy/minio.Dockerfile).
	colophonUID = 10001
	minioUID    = 10002
	// docs/benchmarks.md: an OCR worker at --concurrency 1 peaks at 127.9 MiB with a page in
	// flight; its memory request must hold at least that.
	ocrPeakMemory = "128Mi"
	// On SIGTERM the OCR worker gives a page in flight 8 s (ocr.WithShutdownGrace's default),
	// and an engine that has not stopped is abandoned 10 s after its page's context ends.
	minTerminationGrace = 8 + 10
	// The `colophon worker` subcommands (cmd/colophon/cmd_worker.go).
	cmdOCR      = "ocr"
	cmdMetadata = "metadata"
)

// Secrets the base needs and does not define: each must be named in README.md, which says
// how to make it. Optional ones (envFrom with optional: true) are listed too.
var externalSecrets = []string{"colophon-ocr-s3", "colophon-metadata-s3", "colophon-signing-key", "colophon-nats"}

// object is one resource of a kustomize build, decoded into its API type.
type object struct {
	apiVersion, kind, name, namespace string
	value                             any
}

// scaledObject is KEDA's ScaledObject (keda.sh/v1alpha1), field for field as its CRD
// defines it (KEDA 2.x, apis/keda/v1alpha1: ScaledObjectSpec and ScaleTriggers), less
// status. Decoded strictly, a field the CRD does not have fails the test; a field KEDA has
// added since can be added here.
type scaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              scaledObjectSpec `json:"spec"`
}

type scaledObjectSpec struct {
	ScaleTargetRef        *scaleTarget    `json:"scaleTargetRef"`
	PollingInterval       *int32          `json:"pollingInterval,omitempty"`
	CooldownPeriod        *int32          `json:"cooldownPeriod,omitempty"`
	InitialCooldownPeriod *int32          `json:"initialCooldownPeriod,omitempty"`
	IdleReplicaCount      *int32          `json:"idleReplicaCount,omitempty"`
	MinReplicaCount       *int32          `json:"minReplicaCount,omitempty"`
	MaxReplicaCount       *int32          `json:"maxReplicaCount,omitempty"`
	Advanced              *advancedConfig `json:"advanced,omitempty"`
	Triggers              []scaleTrigger  `json:"triggers"`
	Fallback              *struct {
		FailureThreshold int32 `json:"failureThreshold"`
		Replicas         int32 `json:"replicas"`
	} `json:"fallback,omitempty"`
}

type scaleTarget struct {
	Name                   string `json:"name"`
	APIVersion             string `json:"apiVersion,omitempty"`
	Kind                   string `json:"kind,omitempty"`
	EnvSourceContainerName string `json:"envSourceContainerName,omitempty"`
}

type advancedConfig struct {
	HorizontalPodAutoscalerConfig *struct {
		Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
		Name     string                                         `json:"name,omitempty"`
	} `json:"horizontalPodAutoscalerConfig,omitempty"`
	RestoreToOriginalReplicaCount bool `json:"restoreToOriginalReplicaCount,omitempty"`
	ScalingModifiers              *struct {
		Formula          string `json:"formula,omitempty"`
		Target           string `json:"target,omitempty"`
		ActivationTarget string `json:"activationTarget,omitempty"`
		MetricType       string `json:"metricType,omitempty"`
	} `json:"scalingModifiers,omitempty"`
}

type scaleTrigger struct {
	Type              string            `json:"type"`
	Name              string            `json:"name,omitempty"`
	UseCachedMetrics  bool              `json:"useCachedMetrics,omitempty"`
	Metadata          map[string]string `json:"metadata"`
	AuthenticationRef *struct {
		Name string `json:"name"`
		Kind string `json:"kind,omitempty"`
	} `json:"authenticationRef,omitempty"`
	MetricType string `json:"metricType,omitempty"`
}

// natsJetStreamParams are the trigger metadata KEDA's nats-jetstream scaler reads
// (pkg/scalers/nats_jetstream_scaler.go): required ones true. account or accountID is
// required as well.
var natsJetStreamParams = map[string]bool{
	"natsServerMonitoringEndpoint": true,
	"stream":                       true,
	"consumer":                     true,
	"account":                      false,
	"accountID":                    false,
	"lagThreshold":                 false,
	"activationLagThreshold":       false,
	"useHttps":                     false,
}

// types maps apiVersion and kind to the type an object is decoded into. A kind not here
// fails the build check: add its type before adding it to a manifest.
var types = map[string]func() any{
	"v1/Namespace":                  func() any { return &corev1.Namespace{} },
	"v1/ServiceAccount":             func() any { return &corev1.ServiceAccount{} },
	"v1/ConfigMap":                  func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                     func() any { return &corev1.Secret{} },
	"apps/v1/Deployment":            func() any { return &appsv1.Deployment{} },
	"batch/v1/Job":                  func() any { return &batchv1.Job{} },
	"keda.sh/v1alpha1/ScaledObject": func() any { return &scaledObject{} },
}

// kustomize builds the kustomization in dir as `kubectl kustomize` would and decodes every
// resource strictly: an unknown or misspelt field, or a duplicate one, is an error.
func kustomize(t *testing.T, dir string) []object {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), abs)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var objs []object
	for _, r := range m.Resources() {
		data, err := r.AsYAML()
		if err != nil {
			t.Fatalf("%s: %s %s: %v", dir, r.GetKind(), r.GetName(), err)
		}
		o := object{apiVersion: r.GetApiVersion(), kind: r.GetKind(), name: r.GetName(), namespace: r.GetNamespace()}
		newValue, ok := types[o.apiVersion+"/"+o.kind]
		if !ok {
			t.Fatalf("%s: %s %s: no Go type for %s %s in this test; add one", dir, o.kind, o.name, o.apiVersion, o.kind)
		}
		o.value = newValue()
		if err := yaml.UnmarshalStrict(data, o.value); err != nil {
			t.Fatalf("%s: %s %s does not decode strictly into its API type: %v\n%s", dir, o.kind, o.name, err, data)
		}
		objs = append(objs, o)
	}
	if len(objs) == 0 {
		t.Fatalf("%s: kustomize built nothing", dir)
	}
	return objs
}

func find[T any](objs []object, kind, name string) (T, bool) {
	for _, o := range objs {
		if o.kind == kind && o.name == name {
			if v, ok := o.value.(T); ok {
				return v, true
			}
		}
	}
	var zero T
	return zero, false
}

func all[T any](objs []object) []T {
	var out []T
	for _, o := range objs {
		if v, ok := o.value.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// workload is a pod template with the name of what owns it.
type workload struct {
	kind, name string
	pod        *corev1.PodSpec
}

func workloads(objs []object) []workload {
	var ws []workload
	for _, d := range all[*appsv1.Deployment](objs) {
		ws = append(ws, workload{"Deployment", d.Name, &d.Spec.Template.Spec})
	}
	for _, j := range all[*batchv1.Job](objs) {
		ws = append(ws, workload{"Job", j.Name, &j.Spec.Template.Spec})
	}
	return ws
}

func containers(p *corev1.PodSpec) []corev1.Container {
	return append(slices.Clone(p.InitContainers), p.Containers...)
}

// isColophonImage reports a container running the colophon image (any registry, any tag).
func isColophonImage(image string) bool { return imageName(image) == "colophon" }

func imageName(image string) string {
	image, _, _ = strings.Cut(image, "@")
	if i := strings.LastIndex(image, "/"); i >= 0 {
		image = image[i+1:]
	}
	name, _, _ := strings.Cut(image, ":")
	return name
}

// flag returns the value of --name=V or --name V in args.
func flag(args []string, name string) (string, bool) {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

// workerKind returns "ocr" or "metadata" for a container running `colophon worker KIND`.
func workerKind(c corev1.Container) string {
	if !isColophonImage(c.Image) || len(c.Args) < 2 || c.Args[0] != "worker" {
		return ""
	}
	return c.Args[1]
}

func envValue(c corev1.Container, name string) (corev1.EnvVar, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e, true
		}
	}
	return corev1.EnvVar{}, false
}

func TestManifests(t *testing.T) {
	builds := []struct {
		dir string
		// secretsAllowed: this build may define Secrets, all of them placeholders.
		secretsAllowed bool
		// complete: every Secret and ConfigMap the pods need is in the build.
		complete bool
		// pinnedImages: every image names a registry and a tag or digest.
		pinnedImages bool
	}{
		{dir: baseDir},
		{dir: exampleDir, secretsAllowed: true, complete: true, pinnedImages: true},
	}
	for _, b := range builds {
		t.Run(b.dir, func(t *testing.T) {
			objs := kustomize(t, b.dir)
			checks := []struct {
				name  string
				check func(*testing.T, []object)
			}{
				{"namespace", checkNamespace},
				{"no literal secrets", func(t *testing.T, objs []object) { checkNoLiteralSecrets(t, objs, b.secretsAllowed) }},
				{"references", func(t *testing.T, objs []object) { checkReferences(t, objs, b.complete) }},
				{"security context", checkSecurity},
				{"resources", checkResources},
				{"ocr worker", checkOCRWorker},
				{"metadata worker", checkMetadataWorker},
				{"probes on the metrics port", checkProbes},
				{"graceful stop", checkGrace},
				{"scaled object", checkScaledObject},
				{"environment names the code reads", checkEnvNames},
				{"images", func(t *testing.T, objs []object) { checkImages(t, objs, b.pinnedImages) }},
			}
			for _, c := range checks {
				t.Run(c.name, func(t *testing.T) { c.check(t, objs) })
			}
		})
	}
}

func checkNamespace(t *testing.T, objs []object) {
	if _, ok := find[*corev1.Namespace](objs, "Namespace", namespace); !ok {
		t.Errorf("no Namespace %s", namespace)
	}
	for _, o := range objs {
		if o.kind != "Namespace" && o.namespace != namespace {
			t.Errorf("%s %s is in namespace %q, want %q", o.kind, o.name, o.namespace, namespace)
		}
	}
}

// sensitive matches the names of variables and keys that hold a secret.
var sensitive = regexp.MustCompile(`(?i)(secret|password|passwd|token|_key$|^key$|signing[._-]?key$|creds)`)

// pathVars name files, not secrets (cmd/colophon/root.go: a seed file, a .creds file, a
// client certificate's key file).
var pathVars = []string{"COLOPHON_NATS_NKEY", "COLOPHON_NATS_CREDS", "COLOPHON_NATS_KEY"}

// In the example's Secrets, a key that holds a secret must hold
// a value marked CHANGE-ME; the others are names (users, access keys), public anyway.
var (
	placeholderSecretKeys = []string{"secret-key", "password", "COLOPHON_NATS_PASSWORD", "COLOPHON_NATS_TOKEN", "signing.key"}
	placeholderNameKeys   = []string{"access-key", "user", "COLOPHON_NATS_USER"}
)

func checkNoLiteralSecrets(t *testing.T, objs []object, secretsAllowed bool) {
	for _, w := range workloads(objs) {
		for _, c := range containers(w.pod) {
			for _, e := range c.Env {
				if e.Value == "" || !sensitive.MatchString(e.Name) {
					continue
				}
				// A path to a file that holds the secret is not the secret.
				if (strings.HasSuffix(e.Name, "_FILE") || slices.Contains(pathVars, e.Name)) && strings.HasPrefix(e.Value, "/") {
					continue
				}
				t.Errorf("%s %s container %s: %s has a literal value; take it from a Secret (valueFrom.secretKeyRef)", w.kind, w.name, c.Name, e.Name)
			}
			for _, e := range c.Env {
				if strings.Contains(e.Value, "@") && strings.Contains(e.Value, "://") {
					t.Errorf("%s %s container %s: %s looks like a URL with credentials in it", w.kind, w.name, c.Name, e.Name)
				}
			}
		}
	}
	for _, cm := range all[*corev1.ConfigMap](objs) {
		for k, v := range cm.Data {
			if sensitive.MatchString(k) {
				t.Errorf("ConfigMap %s holds %s: secrets go in Secrets", cm.Name, k)
			}
			if strings.Contains(v, "@") && strings.Contains(v, "://") {
				t.Errorf("ConfigMap %s: %s looks like a URL with credentials in it", cm.Name, k)
			}
		}
	}
	secrets := all[*corev1.Secret](objs)
	if !secretsAllowed {
		for _, s := range secrets {
			t.Errorf("Secret %s is defined here: only the example overlay may define Secrets, with placeholders", s.Name)
		}
		return
	}
	for _, s := range secrets {
		if s.Annotations["colophon.example/placeholder"] != "true" {
			t.Errorf("Secret %s is not marked colophon.example/placeholder: \"true\"", s.Name)
		}
		if len(s.Data) > 0 {
			t.Errorf("Secret %s has data: the example writes placeholders in stringData, in the clear, so they can be seen to be placeholders", s.Name)
		}
		for k, v := range s.StringData {
			switch {
			case slices.Contains(placeholderSecretKeys, k):
				if !strings.Contains(v, "CHANGE-ME") {
					t.Errorf("Secret %s: %s is not a CHANGE-ME placeholder", s.Name, k)
				}
			case slices.Contains(placeholderNameKeys, k):
			default:
				t.Errorf("Secret %s: key %s is neither a known secret (%v) nor a known name (%v)", s.Name, k, placeholderSecretKeys, placeholderNameKeys)
			}
		}
	}
}

// TestNoSecretsOutsideTheExample reads every manifest file here, built or not: no Secret
// outside overlays/example.
func TestNoSecretsOutsideTheExample(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return err
		}
		if strings.HasPrefix(filepath.ToSlash(path), exampleDir+"/") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, doc := range strings.Split(string(data), "\n---") {
			var head struct {
				Kind       string            `json:"kind"`
				StringData map[string]string `json:"stringData"`
			}
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				t.Errorf("%s document %d: %v", path, i+1, err)
				continue
			}
			if head.Kind == "Secret" || len(head.StringData) > 0 {
				t.Errorf("%s document %d is a Secret: only overlays/example may hold one, with placeholders", path, i+1)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkReferences: every Secret and ConfigMap a pod uses exists in the build, or (for a
// Secret) is one the README tells how to make; keys read from a Secret in the build exist.
func checkReferences(t *testing.T, objs []object, complete bool) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	secret := func(where, name, key string, optional bool) {
		s, ok := find[*corev1.Secret](objs, "Secret", name)
		switch {
		case ok:
			if key != "" {
				if _, has := s.StringData[key]; !has {
					if _, has := s.Data[key]; !has {
						t.Errorf("%s: Secret %s has no key %s", where, name, key)
					}
				}
			}
		case complete && !optional:
			t.Errorf("%s: Secret %s is not in this build", where, name)
		case !slices.Contains(externalSecrets, name):
			t.Errorf("%s: Secret %s is neither in the build nor one of the Secrets the README explains (%v)", where, name, externalSecrets)
		}
		if !strings.Contains(string(readme), name) {
			t.Errorf("%s: README.md does not say what Secret %s holds", where, name)
		}
	}
	configMap := func(where, name, key string) {
		cm, ok := find[*corev1.ConfigMap](objs, "ConfigMap", name)
		if !ok {
			t.Errorf("%s: ConfigMap %s is not in the build", where, name)
			return
		}
		if _, has := cm.Data[key]; key != "" && !has {
			t.Errorf("%s: ConfigMap %s has no key %s", where, name, key)
		}
	}
	for _, w := range workloads(objs) {
		for _, c := range containers(w.pod) {
			where := fmt.Sprintf("%s %s container %s", w.kind, w.name, c.Name)
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				if r := e.ValueFrom.SecretKeyRef; r != nil {
					secret(where, r.Name, r.Key, r.Optional != nil && *r.Optional)
				}
				if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
					configMap(where, r.Name, r.Key)
				}
			}
			for _, e := range c.EnvFrom {
				if r := e.SecretRef; r != nil {
					secret(where, r.Name, "", r.Optional != nil && *r.Optional)
				}
				if r := e.ConfigMapRef; r != nil {
					configMap(where, r.Name, "")
				}
			}
			for _, m := range c.VolumeMounts {
				if !slices.ContainsFunc(w.pod.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name }) {
					t.Errorf("%s mounts volume %s, which the pod does not have", where, m.Name)
				}
			}
		}
		if sa := w.pod.ServiceAccountName; sa != "" {
			if _, ok := find[*corev1.ServiceAccount](objs, "ServiceAccount", sa); !ok {
				t.Errorf("%s %s: ServiceAccount %s is not in the build", w.kind, w.name, sa)
			}
		}
		for _, v := range w.pod.Volumes {
			if v.Secret == nil {
				continue
			}
			where := fmt.Sprintf("%s %s volume %s", w.kind, w.name, v.Name)
			optional := v.Secret.Optional != nil && *v.Secret.Optional
			if len(v.Secret.Items) == 0 {
				secret(where, v.Secret.SecretName, "", optional)
			}
			for _, it := range v.Secret.Items {
				secret(where, v.Secret.SecretName, it.Key, optional)
			}
		}
	}
	for _, d := range all[*appsv1.Deployment](objs) {
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil {
			t.Errorf("Deployment %s: selector: %v", d.Name, err)
			continue
		}
		if sel.Empty() || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("Deployment %s: selector %s does not match its pod labels %v", d.Name, sel, d.Spec.Template.Labels)
		}
	}
}

func checkSecurity(t *testing.T, objs []object) {
	ws := workloads(objs)
	if len(ws) == 0 {
		t.Fatal("no workloads")
	}
	for _, w := range ws {
		p := w.pod
		where := w.kind + " " + w.name
		if p.HostNetwork || p.HostPID || p.HostIPC {
			t.Errorf("%s shares a host namespace", where)
		}
		if p.AutomountServiceAccountToken == nil || *p.AutomountServiceAccountToken {
			t.Errorf("%s mounts a service account token; the workers never call the Kubernetes API", where)
		}
		tmpVolumes := map[string]bool{}
		for _, v := range p.Volumes {
			if v.HostPath != nil {
				t.Errorf("%s has a hostPath volume %s", where, v.Name)
			}
			if v.EmptyDir != nil {
				tmpVolumes[v.Name] = true
			}
		}
		psc := p.SecurityContext
		if psc == nil {
			psc = &corev1.PodSecurityContext{}
		}
		for _, c := range containers(p) {
			cw := where + " container " + c.Name
			sc := c.SecurityContext
			if sc == nil {
				t.Errorf("%s has no securityContext", cw)
				continue
			}
			nonRoot := firstBool(sc.RunAsNonRoot, psc.RunAsNonRoot)
			uid := firstInt(sc.RunAsUser, psc.RunAsUser)
			if !nonRoot {
				t.Errorf("%s: runAsNonRoot is not true", cw)
			}
			if uid == nil || *uid == 0 {
				t.Errorf("%s: runAsUser is not set to a non-root user", cw)
			}
			wantUID := int64(0)
			switch imageName(c.Image) {
			case "colophon":
				wantUID = colophonUID
			case "colophon-minio":
				wantUID = minioUID
			}
			if wantUID != 0 && (uid == nil || *uid != wantUID) {
				t.Errorf("%s: runAsUser %v, want %d, the image's user", cw, deref(uid), wantUID)
			}
			if !firstBool(sc.ReadOnlyRootFilesystem) {
				t.Errorf("%s: readOnlyRootFilesystem is not true", cw)
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("%s: allowPrivilegeEscalation is not false", cw)
			}
			if firstBool(sc.Privileged) {
				t.Errorf("%s is privileged", cw)
			}
			if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
				t.Errorf("%s: capabilities must drop ALL and add none", cw)
			}
			seccomp := sc.SeccompProfile
			if seccomp == nil {
				seccomp = psc.SeccompProfile
			}
			if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("%s: seccompProfile is not RuntimeDefault", cw)
			}
			if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
				return m.MountPath == "/tmp" && tmpVolumes[m.Name] && !m.ReadOnly
			}) {
				t.Errorf("%s: no writable emptyDir on /tmp (the root filesystem is read-only)", cw)
			}
		}
	}
}

func firstBool(bs ...*bool) bool {
	for _, b := range bs {
		if b != nil {
			return *b
		}
	}
	return false
}

func firstInt(is ...*int64) *int64 {
	for _, i := range is {
		if i != nil {
			return i
		}
	}
	return nil
}

func deref[T any](p *T) any {
	if p == nil {
		return "unset"
	}
	return *p
}

func checkResources(t *testing.T, objs []object) {
	for _, w := range workloads(objs) {
		for _, c := range containers(w.pod) {
			cw := w.kind + " " + w.name + " container " + c.Name
			cpu, hasCPU := c.Resources.Requests[corev1.ResourceCPU]
			mem, hasMem := c.Resources.Requests[corev1.ResourceMemory]
			limit, hasLimit := c.Resources.Limits[corev1.ResourceMemory]
			if !hasCPU || !hasMem || !hasLimit {
				t.Errorf("%s: wants cpu and memory requests and a memory limit", cw)
				continue
			}
			if limit.Cmp(mem) < 0 {
				t.Errorf("%s: memory limit %s under its request %s", cw, limit.String(), mem.String())
			}
			if workerKind(c) == cmdOCR {
				if cpu.Cmp(resource.MustParse("1")) != 0 {
					t.Errorf("%s: cpu request %s, want 1: one recognition is one core", cw, cpu.String())
				}
				if mem.Cmp(resource.MustParse(ocrPeakMemory)) < 0 {
					t.Errorf("%s: memory request %s is under the measured peak %s (docs/benchmarks.md)", cw, mem.String(), ocrPeakMemory)
				}
			}
		}
	}
}

// workerContainer is a container running `colophon worker KIND`, with its Deployment.
type workerContainer struct {
	d *appsv1.Deployment
	c corev1.Container
}

func workerContainers(objs []object, kind string) []workerContainer {
	var out []workerContainer
	for _, d := range all[*appsv1.Deployment](objs) {
		for _, c := range d.Spec.Template.Spec.Containers {
			if workerKind(c) == kind {
				out = append(out, workerContainer{d, c})
			}
		}
	}
	return out
}

func checkOCRWorker(t *testing.T, objs []object) {
	ws := workerContainers(objs, cmdOCR)
	if len(ws) != 1 {
		t.Fatalf("%d OCR worker containers, want 1", len(ws))
	}
	d, c := ws[0].d, ws[0].c
	if v, ok := flag(c.Args, "concurrency"); !ok || v != "1" {
		t.Errorf("OCR worker args %q: want --concurrency 1 (one recognition per pod, one core)", c.Args)
	}
	if e, ok := envValue(c, "OMP_THREAD_LIMIT"); !ok || e.Value != "1" {
		t.Errorf("OCR worker: OMP_THREAD_LIMIT is not 1")
	}
	if d.Spec.Replicas != nil {
		t.Errorf("Deployment %s sets replicas: KEDA owns the count, and apply would reset it", d.Name)
	}
	if len(d.Spec.Template.Spec.Containers) != 1 {
		t.Errorf("Deployment %s: %d containers, want the worker alone (its requests are the pod's)", d.Name, len(d.Spec.Template.Spec.Containers))
	}
}

func checkMetadataWorker(t *testing.T, objs []object) {
	ws := workerContainers(objs, cmdMetadata)
	if len(ws) != 1 {
		t.Fatalf("%d metadata worker containers, want 1", len(ws))
	}
	d, c := ws[0].d, ws[0].c
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("Deployment %s: replicas %v, want 1", d.Name, deref(d.Spec.Replicas))
	}
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("Deployment %s: strategy %q, want Recreate (one signer at a time)", d.Name, d.Spec.Strategy.Type)
	}
	if v, ok := flag(c.Args, "audit-every"); !ok {
		t.Errorf("metadata worker args %q: no --audit-every", c.Args)
	} else if every, err := time.ParseDuration(v); err != nil || every != 24*time.Hour {
		t.Errorf("metadata worker: --audit-every %q, want 24h", v)
	}
	// The signing key: a file from a Secret, mounted read-only, named by the variable the
	// worker reads.
	e, ok := envValue(c, provenance.EnvSigningKeyFile)
	if !ok || e.Value == "" {
		t.Fatalf("metadata worker: %s is not set", provenance.EnvSigningKeyFile)
	}
	dir, file := filepath.Split(e.Value)
	var mount *corev1.VolumeMount
	for i, m := range c.VolumeMounts {
		if filepath.Clean(m.MountPath) == filepath.Clean(dir) {
			mount = &c.VolumeMounts[i]
		}
	}
	if mount == nil {
		t.Fatalf("metadata worker: nothing is mounted at %s (%s=%s)", dir, provenance.EnvSigningKeyFile, e.Value)
	}
	if !mount.ReadOnly {
		t.Errorf("metadata worker: the signing key's mount %s is not read-only", mount.MountPath)
	}
	i := slices.IndexFunc(d.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == mount.Name })
	if i < 0 || d.Spec.Template.Spec.Volumes[i].Secret == nil {
		t.Fatalf("metadata worker: volume %s is not a Secret", mount.Name)
	}
	sv := d.Spec.Template.Spec.Volumes[i].Secret
	if !slices.ContainsFunc(sv.Items, func(k corev1.KeyToPath) bool { return k.Path == file }) {
		t.Errorf("metadata worker: Secret %s does not project %s", sv.SecretName, file)
	}
	if sv.DefaultMode == nil || *sv.DefaultMode&0o077&^0o040 != 0 {
		t.Errorf("metadata worker: the signing key's mode %v lets others than its owner and group read it", deref(sv.DefaultMode))
	}
}

func checkProbes(t *testing.T, objs []object) {
	for _, kind := range []string{cmdOCR, cmdMetadata} {
		for _, w := range workerContainers(objs, kind) {
			c := w.c
			cw := "Deployment " + w.d.Name
			addr, ok := flag(c.Args, "metrics-addr")
			if !ok {
				t.Errorf("%s: no --metrics-addr in %q: the probes need the worker's HTTP endpoints", cw, c.Args)
				continue
			}
			_, portText, err := net.SplitHostPort(addr)
			if err != nil {
				t.Errorf("%s: --metrics-addr %q: %v", cw, addr, err)
				continue
			}
			port, _ := strconv.Atoi(portText)
			if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return int(p.ContainerPort) == port }) {
				t.Errorf("%s: no containerPort %d, the one --metrics-addr listens on", cw, port)
			}
			for _, p := range []struct {
				name, path string
				probe      *corev1.Probe
			}{
				{"liveness", "/healthz", c.LivenessProbe},
				{"readiness", "/readyz", c.ReadinessProbe},
				{"startup", "/healthz", c.StartupProbe},
			} {
				if p.probe == nil || p.probe.HTTPGet == nil {
					t.Errorf("%s: no %s httpGet probe", cw, p.name)
					continue
				}
				g := p.probe.HTTPGet
				if g.Path != p.path {
					t.Errorf("%s: %s probe path %s, want %s", cw, p.name, g.Path, p.path)
				}
				if got := resolvePort(c, g.Port); got != port {
					t.Errorf("%s: %s probe on port %s (%d), want the metrics port %d", cw, p.name, g.Port.String(), got, port)
				}
			}
		}
	}
}

func resolvePort(c corev1.Container, p intstr.IntOrString) int {
	if p.Type == intstr.Int {
		return p.IntValue()
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort)
		}
	}
	return -1
}

func checkGrace(t *testing.T, objs []object) {
	for _, d := range all[*appsv1.Deployment](objs) {
		g := d.Spec.Template.Spec.TerminationGracePeriodSeconds
		if g == nil || *g < minTerminationGrace {
			t.Errorf("Deployment %s: terminationGracePeriodSeconds %v, want at least %d (page grace 8 s + engine stop 10 s)", d.Name, deref(g), minTerminationGrace)
		}
	}
}

func checkScaledObject(t *testing.T, objs []object) {
	sos := all[*scaledObject](objs)
	if len(sos) != 1 {
		t.Fatalf("%d ScaledObjects, want 1", len(sos))
	}
	so := sos[0]
	ref := so.Spec.ScaleTargetRef
	if ref == nil || ref.Name == "" {
		t.Fatal("ScaledObject has no scaleTargetRef.name (the CRD requires it)")
	}
	if ref.Kind != "Deployment" || (ref.APIVersion != "" && ref.APIVersion != "apps/v1") {
		t.Errorf("ScaledObject targets %s %s, want a Deployment", ref.APIVersion, ref.Kind)
	}
	ocr := workerContainers(objs, cmdOCR)
	if len(ocr) != 1 || ocr[0].d.Name != ref.Name {
		t.Errorf("ScaledObject targets Deployment %q, which is not the OCR worker's", ref.Name)
	}
	minR, maxR := int32(0), int32(100) // KEDA's defaults
	if so.Spec.MinReplicaCount != nil {
		minR = *so.Spec.MinReplicaCount
	}
	if so.Spec.MaxReplicaCount != nil {
		maxR = *so.Spec.MaxReplicaCount
	}
	if minR < 0 || maxR < 1 || minR > maxR {
		t.Errorf("ScaledObject: minReplicaCount %d, maxReplicaCount %d", minR, maxR)
	}
	if len(so.Spec.Triggers) != 1 {
		t.Fatalf("ScaledObject: %d triggers, want 1", len(so.Spec.Triggers))
	}
	tr := so.Spec.Triggers[0]
	if tr.Type != "nats-jetstream" {
		t.Fatalf("trigger type %q, want nats-jetstream", tr.Type)
	}
	for k := range tr.Metadata {
		if _, ok := natsJetStreamParams[k]; !ok {
			t.Errorf("trigger metadata %q is not a parameter of KEDA's nats-jetstream scaler", k)
		}
	}
	for k, required := range natsJetStreamParams {
		if required && tr.Metadata[k] == "" {
			t.Errorf("trigger metadata %s is required", k)
		}
	}
	if tr.Metadata["account"] == "" && tr.Metadata["accountID"] == "" {
		t.Error("trigger metadata: account or accountID is required")
	}
	if got := tr.Metadata["stream"]; got != pipeline.StreamOCR {
		t.Errorf("trigger stream %q, want %q (pipeline.StreamOCR)", got, pipeline.StreamOCR)
	}
	if got := tr.Metadata["consumer"]; got != pipeline.ConsumerOCR {
		t.Errorf("trigger consumer %q, want %q (pipeline.ConsumerOCR)", got, pipeline.ConsumerOCR)
	}
	for _, k := range []string{"lagThreshold", "activationLagThreshold"} {
		if v, ok := tr.Metadata[k]; ok {
			if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 0 || (k == "lagThreshold" && n < 1) {
				t.Errorf("trigger %s %q: want a whole number (KEDA parses an int64)", k, v)
			}
		}
	}
	if v, ok := tr.Metadata["useHttps"]; ok {
		if _, err := strconv.ParseBool(v); err != nil {
			t.Errorf("trigger useHttps %q: want true or false", v)
		}
	}
	if ep := tr.Metadata["natsServerMonitoringEndpoint"]; strings.Contains(ep, "://") || strings.Contains(ep, "/") {
		t.Errorf("natsServerMonitoringEndpoint %q: want host:port (KEDA adds the scheme and /jsz)", ep)
	} else if _, _, err := net.SplitHostPort(ep); err != nil {
		t.Errorf("natsServerMonitoringEndpoint %q: %v", ep, err)
	}
}

// envSources are where the programs each image runs read their environment: a variable a
// manifest sets must appear there, so a misspelt or renamed one fails here.
var envSources = map[string][]string{
	"colophon":       {"../../cmd", "../../internal", "../../workers", "../../pipeline"},
	"colophon-minio": {"../minio/init.sh"},
}

// Variables set for the tools inside an image rather than for its program.
var envForTools = []string{"HOME"}

func checkEnvNames(t *testing.T, objs []object) {
	known := map[string]map[string]bool{}
	for image, paths := range envSources {
		known[image] = names(t, paths)
	}
	secretKeys := map[string][]string{}
	for _, s := range all[*corev1.Secret](objs) {
		for k := range s.StringData {
			secretKeys[s.Name] = append(secretKeys[s.Name], k)
		}
	}
	configKeys := map[string][]string{}
	for _, cm := range all[*corev1.ConfigMap](objs) {
		for k := range cm.Data {
			configKeys[cm.Name] = append(configKeys[cm.Name], k)
		}
	}
	for _, w := range workloads(objs) {
		for _, c := range containers(w.pod) {
			img := imageName(c.Image)
			k, ok := known[img]
			if !ok {
				t.Errorf("%s %s container %s: image %s is not one of this repository's", w.kind, w.name, c.Name, c.Image)
				continue
			}
			var vars []string
			for _, e := range c.Env {
				vars = append(vars, e.Name)
			}
			for _, e := range c.EnvFrom {
				if e.SecretRef != nil {
					vars = append(vars, secretKeys[e.SecretRef.Name]...)
				}
				if e.ConfigMapRef != nil {
					vars = append(vars, configKeys[e.ConfigMapRef.Name]...)
				}
			}
			for _, v := range vars {
				if !k[v] && !slices.Contains(envForTools, v) {
					t.Errorf("%s %s container %s: %s is not read by the %s image's program (%v)", w.kind, w.name, c.Name, v, img, envSources[img])
				}
			}
		}
	}
}

var (
	goEnvName    = regexp.MustCompile(`"([A-Z][A-Z0-9_]+)"`)
	shellEnvName = regexp.MustCompile(`\$\{?([A-Z][A-Z0-9_]+)`)
)

// names collects the variable names in the Go sources (not tests) or shell scripts at paths.
func names(t *testing.T, paths []string) map[string]bool {
	t.Helper()
	found := map[string]bool{}
	for _, root := range paths {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			re := shellEnvName
			switch {
			case strings.HasSuffix(path, "_test.go"):
				return nil
			case strings.HasSuffix(path, ".go"):
				re = goEnvName
			case !strings.HasSuffix(path, ".sh"):
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range re.FindAllStringSubmatch(string(data), -1) {
				found[m[1]] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(found) == 0 {
		t.Fatalf("no variable names found in %v", paths)
	}
	return found
}

func checkImages(t *testing.T, objs []object, pinned bool) {
	if !pinned {
		return
	}
	for _, w := range workloads(objs) {
		for _, c := range containers(w.pod) {
			name, ref := c.Image, ""
			if i := strings.LastIndexAny(name, ":@"); i > strings.LastIndex(name, "/") {
				name, ref = name[:i], name[i+1:]
			}
			if !strings.Contains(name, "/") || ref == "" || ref == "latest" {
				t.Errorf("%s %s container %s: image %q, want a registry and a tag or digest other than latest", w.kind, w.name, c.Name, c.Image)
			}
		}
	}
}

// TestNamePrefixRenamesScaleTarget builds an overlay of the base with a namePrefix: the
// ScaledObject must follow its Deployment (base/kustomizeconfig.yaml), or KEDA would scale
// nothing.
func TestNamePrefixRenamesScaleTarget(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "base"), os.DirFS(baseDir)); err != nil {
		t.Fatal(err)
	}
	overlay := filepath.Join(dir, "prefixed")
	if err := os.Mkdir(overlay, 0o755); err != nil {
		t.Fatal(err)
	}
	k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamePrefix: archive-\nresources:\n  - ../base\n"
	if err := os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		t.Fatal(err)
	}
	objs := kustomize(t, overlay)
	so, ok := find[*scaledObject](objs, "ScaledObject", "archive-ocr-worker")
	if !ok {
		t.Fatal("no ScaledObject archive-ocr-worker")
	}
	if _, ok := find[*appsv1.Deployment](objs, "Deployment", so.Spec.ScaleTargetRef.Name); !ok || so.Spec.ScaleTargetRef.Name != "archive-ocr-worker" {
		t.Errorf("ScaledObject targets %q, want archive-ocr-worker", so.Spec.ScaleTargetRef.Name)
	}
}
