// The Go reference for `make bench-webhook`: a mutating admission webhook for batch/v1 Job
// CREATE written with the standard library only (net/http, crypto/tls, encoding/json,
// encoding/base64; no modules), making the same decision as Karbonetes' engine
// (shared/KarbonetesModels/Sources/KarbonetesModels/Decision and Policy) so that wrk compares
// karbonetes-webhook with a plain Go webhook doing the same work: decode the review, resolve
// the policy (held in memory), read the signal (cached with a TTL and refreshed in the
// background, as KarbonetesSignalClient.CachedSignal does), decide, answer a minimal JSON Patch.
//
// bench/webhook/compare.py checks that both give the same answer for the same review.
//
// What it leaves out on purpose: the policy informer (policies come from -policy-file, a
// Kubernetes List as `kubectl get carbonawarepolicies -A -o json` prints it), metrics, logs
// and TLS reloading. Warning texts follow the Swift engine's, except where they quote a
// decoding or duration-parsing error, whose wording is Go's.
package main

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// The annotation and label contract (CarbonAnnotations.swift).
const (
	annotationEnabled        = "carbon-aware.io/enabled"
	annotationMaxDelay       = "carbon-aware.io/max-delay"
	annotationPolicy         = "carbon-aware.io/policy"
	annotationMode           = "carbon-aware.io/mode"
	annotationRegion         = "carbon-aware.io/region"
	annotationEnergy         = "carbon-aware.io/estimated-energy-kwh"
	labelManaged             = "carbon-aware.io/managed"
	annotationState          = "carbon-aware.io/state"
	annotationDeadline       = "carbon-aware.io/deadline"
	annotationIntensitySub   = "carbon-aware.io/intensity-at-submission"
	annotationIntensityDec   = "carbon-aware.io/intensity-at-decision"
	kueueQueueName           = "kueue.x-k8s.io/queue-name"
	cronJobScheduledTime     = "batch.kubernetes.io/cronjob-scheduled-timestamp"
	karpenterNodePoolLabel   = "karpenter.sh/nodepool"
	trueValue                = "true"
	admissionAPIVersion      = "admission.k8s.io/v1"
	admissionKind            = "AdmissionReview"
	defaultPolicyName        = "default"
	preferenceWeight         = 100
	podSpecPath              = "/spec/template/spec"
	maxBodyBytes             = 7 << 20
	stateAdmittedGreen       = "admitted-green"
	stateDeferred            = "deferred"
	stateBypassed            = "bypassed"
	signalUnavailableRun     = "run"
	signalUnavailableWait    = "wait"
	modePrefer               = "prefer"
	modeStrict               = "strict"
	builtInRegion            = "default"
	builtInGreenPoolName     = "green-batch"
	builtInFallbackPoolName  = "default"
	builtInGreenTaintKey     = "carbon-aware.io/green"
	builtInGreenTaintValue   = "true"
	builtInGreenTaintEffect  = "NoSchedule"
	builtInMaxDelay          = 6 * time.Hour
	builtInRecheckInterval   = 5 * time.Minute
	contentTypeJSONMediaType = "application/json"
)

// ---- Kubernetes types, as far as the decision reads them (Job.swift, CarbonAwarePolicy.swift).

type objectMeta struct {
	Name              *string           `json:"name"`
	GenerateName      *string           `json:"generateName"`
	Namespace         *string           `json:"namespace"`
	CreationTimestamp *rfc3339Time      `json:"creationTimestamp"`
	Labels            map[string]string `json:"labels"`
	Annotations       map[string]string `json:"annotations"`
}

func (m objectMeta) key() string {
	name := ""
	if m.Name != nil {
		name = *m.Name
	} else if m.GenerateName != nil {
		name = *m.GenerateName
	}
	if m.Namespace != nil {
		return *m.Namespace + "/" + name
	}
	return name
}

type job struct {
	Metadata objectMeta `json:"metadata"`
	Spec     *struct {
		Suspend  *bool `json:"suspend"`
		Template *struct {
			Spec *podSpec `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

type podSpec struct {
	Affinity *struct {
		NodeAffinity *nodeAffinity `json:"nodeAffinity"`
	} `json:"affinity"`
	NodeSelector map[string]string `json:"nodeSelector"`
	Tolerations  []toleration      `json:"tolerations"`
}

type nodeAffinity struct {
	Required *struct {
		NodeSelectorTerms []nodeSelectorTerm `json:"nodeSelectorTerms"`
	} `json:"requiredDuringSchedulingIgnoredDuringExecution"`
	Preferred []struct {
		Weight     int              `json:"weight"`
		Preference nodeSelectorTerm `json:"preference"`
	} `json:"preferredDuringSchedulingIgnoredDuringExecution"`
}

type nodeSelectorTerm struct {
	MatchExpressions []requirement `json:"matchExpressions"`
}

type requirement struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values"`
}

func (r requirement) equal(other requirement) bool {
	if r.Key != other.Key || r.Operator != other.Operator || (r.Values == nil) != (other.Values == nil) || len(r.Values) != len(other.Values) {
		return false
	}
	for i := range r.Values {
		if r.Values[i] != other.Values[i] {
			return false
		}
	}
	return true
}

type toleration struct {
	Key      *string `json:"key"`
	Operator *string `json:"operator"`
	Value    *string `json:"value"`
	Effect   *string `json:"effect"`
}

type taint struct {
	Key    string  `json:"key"`
	Value  *string `json:"value,omitempty"`
	Effect *string `json:"effect,omitempty"`
}

type nodePoolTarget struct {
	Name  *string `json:"name"`
	Taint *taint  `json:"taint"`
}

type policySpec struct {
	MaxDelay             *string         `json:"maxDelay"`
	Region               *string         `json:"region"`
	GreenThreshold       *float64        `json:"greenThreshold"`
	Mode                 *string         `json:"mode"`
	Strategy             *string         `json:"strategy"`
	OnSignalUnavailable  *string         `json:"onSignalUnavailable"`
	GreenPool            *nodePoolTarget `json:"greenPool"`
	FallbackPool         *nodePoolTarget `json:"fallbackPool"`
	ReleaseRatePerMinute *int            `json:"releaseRatePerMinute"`
	RecheckInterval      *string         `json:"recheckInterval"`
	EstimatedEnergyKWh   *float64        `json:"estimatedEnergyKWh"`
}

type carbonAwarePolicy struct {
	Metadata objectMeta  `json:"metadata"`
	Spec     *policySpec `json:"spec"`
}

// carbonSignal is the `GET /v1/signal` answer (SignalContract.swift), as far as admission reads it.
type carbonSignal struct {
	Region    string  `json:"region"`
	Intensity float64 `json:"intensity"`
	Green     bool    `json:"green"`
}

// ---- Policy resolution (PolicyResolver.swift, ResolvedPolicy.swift).

type poolDirective struct {
	name  string
	taint *taint
}

type resolvedPolicy struct {
	name                string
	maxDelay            time.Duration
	region              string
	greenThreshold      *float64
	mode                string
	onSignalUnavailable string
	greenPool           poolDirective
	fallbackPool        poolDirective
}

func (p resolvedPolicy) isGreen(signal carbonSignal) bool {
	if p.greenThreshold != nil {
		return signal.Intensity <= *p.greenThreshold
	}
	return signal.Green
}

func stringPointer(s string) *string { return &s }

func builtInPolicy() resolvedPolicy {
	return resolvedPolicy{
		maxDelay: builtInMaxDelay, region: builtInRegion, mode: modePrefer, onSignalUnavailable: signalUnavailableRun,
		greenPool: poolDirective{name: builtInGreenPoolName, taint: &taint{
			Key: builtInGreenTaintKey, Value: stringPointer(builtInGreenTaintValue), Effect: stringPointer(builtInGreenTaintEffect)}},
		fallbackPool: poolDirective{name: builtInFallbackPoolName},
	}
}

// trimWhitespace trims what Foundation's CharacterSet.whitespaces holds: spaces and tabs, not newlines.
func trimWhitespace(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return r == '\t' || (unicode.IsSpace(r) && r != '\n' && r != '\r' && r != '\v' && r != '\f' && r != 0x85)
	})
}

func nonEmpty(s *string) (string, bool) {
	if s == nil || trimWhitespace(*s) == "" {
		return "", false
	}
	return *s, true
}

// parsePositiveDuration is GoDuration(parsing:) > 0: GoDuration is Go's own syntax.
func parsePositiveDuration(text string) (time.Duration, string) {
	value, err := time.ParseDuration(trimWhitespace(text))
	if err != nil {
		return 0, err.Error()
	}
	if value <= 0 {
		return 0, fmt.Sprintf("duration %q must be more than zero", text)
	}
	return value, ""
}

type policyStore struct {
	byKey map[string]carbonAwarePolicy
}

func (s policyStore) get(namespace, name string) *carbonAwarePolicy {
	if policy, ok := s.byKey[namespace+"/"+name]; ok {
		return &policy
	}
	return nil
}

func requestedPolicyName(j *job) string {
	if named, ok := j.Metadata.Annotations[annotationPolicy]; ok {
		if trimmed := trimWhitespace(named); trimmed != "" {
			return trimmed
		}
	}
	return defaultPolicyName
}

func resolvePolicy(j *job, policies policyStore) (resolvedPolicy, []string) {
	namespace := "default"
	if j.Metadata.Namespace != nil {
		namespace = *j.Metadata.Namespace
	}
	requested := requestedPolicyName(j)
	named := policies.get(namespace, requested)
	fallback := named
	if requested != defaultPolicyName {
		fallback = policies.get(namespace, defaultPolicyName)
	}
	var warnings []string
	var policy *carbonAwarePolicy
	switch {
	case requested == defaultPolicyName:
		policy = fallback
		if policy == nil {
			policy = named
		}
	case named != nil:
		policy = named
	default:
		policy = fallback
		instead := "built-in defaults"
		if fallback != nil {
			instead = fmt.Sprintf("policy %q", defaultPolicyName)
		}
		warnings = append(warnings, fmt.Sprintf("CarbonAwarePolicy %q not found in namespace %q; using %s", requested, namespace, instead))
	}
	resolved := builtInPolicy()
	if policy != nil {
		if policy.Metadata.Name != nil {
			resolved.name = *policy.Metadata.Name
		}
		if policy.Spec != nil {
			name := "?"
			if policy.Metadata.Name != nil {
				name = *policy.Metadata.Name
			}
			warnings = applySpec(*policy.Spec, fmt.Sprintf("CarbonAwarePolicy %s/%s", namespace, name), &resolved, warnings)
		}
	}
	return resolved, applyAnnotations(j, &resolved, warnings)
}

func applySpec(spec policySpec, origin string, resolved *resolvedPolicy, warnings []string) []string {
	if spec.MaxDelay != nil {
		if value, problem := parsePositiveDuration(*spec.MaxDelay); problem == "" {
			resolved.maxDelay = value
		} else {
			warnings = append(warnings, fmt.Sprintf("%s: spec.maxDelay: %s; using %s", origin, problem, resolved.maxDelay))
		}
	}
	if spec.Region != nil && *spec.Region != "" {
		resolved.region = *spec.Region
	}
	if spec.GreenThreshold != nil {
		if threshold := *spec.GreenThreshold; threshold >= 0 && !math.IsInf(threshold, 0) {
			resolved.greenThreshold = &threshold
		} else {
			warnings = append(warnings, fmt.Sprintf("%s: spec.greenThreshold %v is negative; using the signal's green flag", origin, threshold))
		}
	}
	if spec.Mode != nil {
		if *spec.Mode == modePrefer || *spec.Mode == modeStrict {
			resolved.mode = *spec.Mode
		} else {
			warnings = append(warnings, fmt.Sprintf("%s: unknown spec.mode %q (use prefer or strict); using %s", origin, *spec.Mode, resolved.mode))
		}
	}
	if spec.Strategy != nil && *spec.Strategy != "firstGreen" && *spec.Strategy != "forecast" {
		warnings = append(warnings, fmt.Sprintf("%s: unknown spec.strategy %q (use firstGreen or forecast); using firstGreen", origin, *spec.Strategy))
	}
	if spec.OnSignalUnavailable != nil {
		if *spec.OnSignalUnavailable == signalUnavailableRun || *spec.OnSignalUnavailable == signalUnavailableWait {
			resolved.onSignalUnavailable = *spec.OnSignalUnavailable
		} else {
			warnings = append(warnings, fmt.Sprintf("%s: unknown spec.onSignalUnavailable %q (use run or wait); using %s", origin, *spec.OnSignalUnavailable, resolved.onSignalUnavailable))
		}
	}
	if pool := spec.GreenPool; pool != nil {
		if name, ok := nonEmpty(pool.Name); ok {
			resolved.greenPool.name = name
		}
		if pool.Taint != nil {
			resolved.greenPool.taint = pool.Taint
		}
	}
	if pool := spec.FallbackPool; pool != nil {
		if name, ok := nonEmpty(pool.Name); ok {
			resolved.fallbackPool.name = name
		}
		resolved.fallbackPool.taint = pool.Taint
	}
	if spec.ReleaseRatePerMinute != nil && *spec.ReleaseRatePerMinute < 0 {
		warnings = append(warnings, fmt.Sprintf("%s: spec.releaseRatePerMinute %d is negative; releases are not paced", origin, *spec.ReleaseRatePerMinute))
	}
	if spec.RecheckInterval != nil {
		if _, problem := parsePositiveDuration(*spec.RecheckInterval); problem != "" {
			warnings = append(warnings, fmt.Sprintf("%s: spec.recheckInterval: %s; using %s", origin, problem, builtInRecheckInterval))
		}
	}
	if spec.EstimatedEnergyKWh != nil && !(*spec.EstimatedEnergyKWh >= 0 && !math.IsInf(*spec.EstimatedEnergyKWh, 0)) {
		warnings = append(warnings, fmt.Sprintf("%s: spec.estimatedEnergyKWh %v is negative; ignored", origin, *spec.EstimatedEnergyKWh))
	}
	return warnings
}

func applyAnnotations(j *job, resolved *resolvedPolicy, warnings []string) []string {
	annotations := j.Metadata.Annotations
	if text, ok := annotations[annotationMaxDelay]; ok {
		if value, problem := parsePositiveDuration(text); problem == "" {
			resolved.maxDelay = value
		} else {
			warnings = append(warnings, fmt.Sprintf("annotation %s: %s; using %s", annotationMaxDelay, problem, resolved.maxDelay))
		}
	}
	if text, ok := annotations[annotationMode]; ok {
		if text == modePrefer || text == modeStrict {
			resolved.mode = text
		} else {
			warnings = append(warnings, fmt.Sprintf("annotation %s: unknown mode %q (use prefer or strict); using %s", annotationMode, text, resolved.mode))
		}
	}
	if text, ok := annotations[annotationRegion]; ok {
		if region, ok := nonEmpty(&text); ok {
			resolved.region = region
		}
	}
	if text, ok := annotations[annotationEnergy]; ok {
		if energy, err := strconv.ParseFloat(text, 64); err != nil || !(energy >= 0 && !math.IsInf(energy, 0)) {
			warnings = append(warnings, fmt.Sprintf("annotation %s: %q is not a non-negative number; ignored", annotationEnergy, text))
		}
	}
	return warnings
}

// ---- The decision (AdmissionDecider.swift, MetadataPatch.swift, SchedulingInjection.swift).

type patchOperation struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

func add(path string, value any) patchOperation {
	return patchOperation{Op: "add", Path: path, Value: value}
}

// escapePointerToken is RFC 6901's escaping: `carbon-aware.io/state` stays one token.
func escapePointerToken(token string) string {
	return strings.ReplaceAll(strings.ReplaceAll(token, "~", "~0"), "/", "~1")
}

// metadataPatch sets labels and annotations in the order asked, adding the map itself when the
// object has none (RFC 6902 cannot add a member to a missing object).
type metadataPatch struct {
	labelsExist, annotationsExist bool
	labelKeys, annotationKeys     []string
	labels, annotations           map[string]string
}

func newMetadataPatch(meta objectMeta) *metadataPatch {
	return &metadataPatch{labelsExist: meta.Labels != nil, annotationsExist: meta.Annotations != nil,
		labels: map[string]string{}, annotations: map[string]string{}}
}

func (m *metadataPatch) setLabel(key, value string) {
	if _, ok := m.labels[key]; !ok {
		m.labelKeys = append(m.labelKeys, key)
	}
	m.labels[key] = value
}

func (m *metadataPatch) setAnnotation(key, value string) {
	if _, ok := m.annotations[key]; !ok {
		m.annotationKeys = append(m.annotationKeys, key)
	}
	m.annotations[key] = value
}

func (m *metadataPatch) operations() []patchOperation {
	ops := func(path string, exists bool, values map[string]string, order []string) []patchOperation {
		if len(values) == 0 {
			return nil
		}
		if !exists {
			return []patchOperation{add(path, values)}
		}
		result := make([]patchOperation, 0, len(order))
		for _, key := range order {
			result = append(result, add(path+"/"+escapePointerToken(key), values[key]))
		}
		return result
	}
	return append(ops("/metadata/labels", m.labelsExist, m.labels, m.labelKeys),
		ops("/metadata/annotations", m.annotationsExist, m.annotations, m.annotationKeys)...)
}

// formatIntensity is IntensityText.format: at most one decimal, no ".0".
func formatIntensity(value float64) string {
	rounded := math.Round(value*10) / 10
	if rounded == math.Round(rounded) {
		return strconv.Itoa(int(rounded))
	}
	return strconv.FormatFloat(rounded, 'f', -1, 64)
}

// formatRFC3339 is RFC3339.format: UTC, whole seconds rounded down.
func formatRFC3339(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z")
}

// rfc3339Time fails decoding on a string that is not RFC 3339, as the Swift models' dates do,
// so that such a Job is "unreadable" for both webhooks.
type rfc3339Time time.Time

func (t *rfc3339Time) UnmarshalJSON(data []byte) error {
	var text string
	if err := json.Unmarshal(data, &text); err != nil {
		return err
	}
	parsed, ok := parseRFC3339(text)
	if !ok {
		return fmt.Errorf("%q is not an RFC 3339 time", text)
	}
	*t = rfc3339Time(parsed)
	return nil
}

func parseRFC3339(text string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, text)
	return t, err == nil
}

type signalReading struct {
	signal            *carbonSignal
	unavailableReason string
}

type decision struct {
	outcome  string
	patch    []patchOperation
	warnings []string
}

func exempt(j *job, operation *string) bool {
	if operation != nil && *operation != "CREATE" {
		return true
	}
	if j.Metadata.Annotations[annotationEnabled] != trueValue {
		return true
	}
	if _, ok := j.Metadata.Labels[kueueQueueName]; ok {
		return true
	}
	if _, ok := j.Metadata.Annotations[kueueQueueName]; ok {
		return true
	}
	return j.Spec != nil && j.Spec.Suspend != nil && *j.Spec.Suspend
}

func decide(j *job, policy resolvedPolicy, policyWarnings []string, reading signalReading, now time.Time) decision {
	warnings := policyWarnings
	metadata := newMetadataPatch(j.Metadata)
	if reading.signal != nil {
		metadata.setAnnotation(annotationIntensitySub, formatIntensity(reading.signal.Intensity))
	}
	if reading.signal != nil && policy.isGreen(*reading.signal) {
		injection, injectionWarnings := planInjection(j, policy.greenPool, policy.mode)
		warnings = append(warnings, injectionWarnings...)
		metadata.setAnnotation(annotationState, stateAdmittedGreen)
		metadata.setAnnotation(annotationIntensityDec, formatIntensity(reading.signal.Intensity))
		return decision{outcome: stateAdmittedGreen, patch: append(metadata.operations(), injection...), warnings: warnings}
	}
	if reading.signal == nil && policy.onSignalUnavailable == signalUnavailableRun {
		warnings = append(warnings, fmt.Sprintf("carbon signal for region %q unavailable (%s); running the Job now on NodePool %q (onSignalUnavailable: run)",
			policy.region, reading.unavailableReason, policy.fallbackPool.name))
		return bypass(j, policy, metadata, warnings)
	}
	start := now
	if j.Metadata.CreationTimestamp != nil {
		start = time.Time(*j.Metadata.CreationTimestamp)
	}
	if scheduled, ok := parseRFC3339(j.Metadata.Annotations[cronJobScheduledTime]); ok {
		start = scheduled
	}
	deadline := start.Add(policy.maxDelay)
	if !deadline.After(now) {
		warnings = append(warnings, fmt.Sprintf("the Job's deadline %s has already passed; running it now on NodePool %q", formatRFC3339(deadline), policy.fallbackPool.name))
		return bypass(j, policy, metadata, warnings)
	}
	if reading.signal == nil {
		warnings = append(warnings, fmt.Sprintf("carbon signal for region %q unavailable (%s); holding the Job until the grid is green or %s (onSignalUnavailable: wait)",
			policy.region, reading.unavailableReason, formatRFC3339(deadline)))
	}
	metadata.setLabel(labelManaged, trueValue)
	metadata.setAnnotation(annotationState, stateDeferred)
	metadata.setAnnotation(annotationDeadline, formatRFC3339(deadline))
	return decision{outcome: stateDeferred, patch: append([]patchOperation{add("/spec/suspend", true)}, metadata.operations()...), warnings: warnings}
}

func bypass(j *job, policy resolvedPolicy, metadata *metadataPatch, warnings []string) decision {
	injection, injectionWarnings := planInjection(j, policy.fallbackPool, policy.mode)
	metadata.setAnnotation(annotationState, stateBypassed)
	return decision{outcome: stateBypassed, patch: append(metadata.operations(), injection...), warnings: append(warnings, injectionWarnings...)}
}

func planInjection(j *job, pool poolDirective, mode string) ([]patchOperation, []string) {
	if j.Spec == nil || j.Spec.Template == nil || j.Spec.Template.Spec == nil {
		return nil, []string{fmt.Sprintf("Job %s has no spec.template.spec; not steering it to NodePool %q", j.Metadata.key(), pool.name)}
	}
	spec := j.Spec.Template.Spec
	if conflict := schedulingConflict(spec, pool.name); conflict != "" {
		return nil, []string{fmt.Sprintf("not steering Job %s to NodePool %q: %s", j.Metadata.key(), pool.name, conflict)}
	}
	var ops []patchOperation
	want := requirement{Key: karpenterNodePoolLabel, Operator: "In", Values: []string{pool.name}}
	if selected, ok := spec.NodeSelector[karpenterNodePoolLabel]; !ok || selected != pool.name {
		if mode == modeStrict {
			ops = append(ops, requireOps(spec, want)...)
		} else {
			ops = append(ops, preferOps(spec, want)...)
		}
	}
	if pool.taint != nil && !anyTolerates(spec.Tolerations, *pool.taint) {
		value := tolerationFor(*pool.taint)
		if spec.Tolerations == nil {
			ops = append(ops, add(podSpecPath+"/tolerations", []any{value}))
		} else {
			ops = append(ops, add(podSpecPath+"/tolerations/-", value))
		}
	}
	return ops, nil
}

func schedulingConflict(spec *podSpec, pool string) string {
	if pinned, ok := spec.NodeSelector[karpenterNodePoolLabel]; ok && pinned != pool {
		return fmt.Sprintf("its nodeSelector pins %s=%s", karpenterNodePoolLabel, pinned)
	}
	if spec.Affinity != nil && spec.Affinity.NodeAffinity != nil && spec.Affinity.NodeAffinity.Required != nil {
		terms := spec.Affinity.NodeAffinity.Required.NodeSelectorTerms
		if len(terms) == 0 {
			return ""
		}
		for _, term := range terms {
			if admits(term, pool) {
				return ""
			}
		}
		return fmt.Sprintf("its required node affinity excludes %s=%s", karpenterNodePoolLabel, pool)
	}
	return ""
}

func admits(term nodeSelectorTerm, pool string) bool {
	for _, r := range term.MatchExpressions {
		if r.Key != karpenterNodePoolLabel {
			continue
		}
		contains := false
		for _, value := range r.Values {
			contains = contains || value == pool
		}
		switch r.Operator {
		case "In":
			if !contains {
				return false
			}
		case "NotIn":
			if contains {
				return false
			}
		case "Exists":
		default:
			return false
		}
	}
	return true
}

func containsRequirement(expressions []requirement, want requirement) bool {
	for _, r := range expressions {
		if r.equal(want) {
			return true
		}
	}
	return false
}

func requirementValue(r requirement) map[string]any {
	values := r.Values
	if values == nil {
		values = []string{}
	}
	return map[string]any{"key": r.Key, "operator": r.Operator, "values": values}
}

func preferOps(spec *podSpec, want requirement) []patchOperation {
	term := map[string]any{"weight": preferenceWeight, "preference": map[string]any{"matchExpressions": []any{requirementValue(want)}}}
	affinityPath := podSpecPath + "/affinity"
	if spec.Affinity == nil {
		return []patchOperation{add(affinityPath, map[string]any{"nodeAffinity": map[string]any{"preferredDuringSchedulingIgnoredDuringExecution": []any{term}}})}
	}
	node := spec.Affinity.NodeAffinity
	for _, existing := range nodeAffinityPreferred(node) {
		if containsRequirement(existing.Preference.MatchExpressions, want) {
			return nil
		}
	}
	nodeAffinityPath := affinityPath + "/nodeAffinity"
	if node == nil {
		return []patchOperation{add(nodeAffinityPath, map[string]any{"preferredDuringSchedulingIgnoredDuringExecution": []any{term}})}
	}
	preferredPath := nodeAffinityPath + "/preferredDuringSchedulingIgnoredDuringExecution"
	if node.Preferred == nil {
		return []patchOperation{add(preferredPath, []any{term})}
	}
	return []patchOperation{add(preferredPath+"/-", term)}
}

func nodeAffinityPreferred(node *nodeAffinity) []struct {
	Weight     int              `json:"weight"`
	Preference nodeSelectorTerm `json:"preference"`
} {
	if node == nil {
		return nil
	}
	return node.Preferred
}

// requireOps puts the requirement into every node selector term: terms are ORed, so a term
// left without it would let pods land outside the pool.
func requireOps(spec *podSpec, want requirement) []patchOperation {
	value := requirementValue(want)
	affinityPath := podSpecPath + "/affinity"
	selector := map[string]any{"nodeSelectorTerms": []any{map[string]any{"matchExpressions": []any{value}}}}
	if spec.Affinity == nil {
		return []patchOperation{add(affinityPath, map[string]any{"nodeAffinity": map[string]any{"requiredDuringSchedulingIgnoredDuringExecution": selector}})}
	}
	nodeAffinityPath := affinityPath + "/nodeAffinity"
	node := spec.Affinity.NodeAffinity
	if node == nil {
		return []patchOperation{add(nodeAffinityPath, map[string]any{"requiredDuringSchedulingIgnoredDuringExecution": selector})}
	}
	requiredPath := nodeAffinityPath + "/requiredDuringSchedulingIgnoredDuringExecution"
	if node.Required == nil || len(node.Required.NodeSelectorTerms) == 0 {
		return []patchOperation{add(requiredPath, selector)}
	}
	var ops []patchOperation
	for index, term := range node.Required.NodeSelectorTerms {
		if containsRequirement(term.MatchExpressions, want) {
			continue
		}
		termPath := fmt.Sprintf("%s/nodeSelectorTerms/%d", requiredPath, index)
		if term.MatchExpressions == nil {
			ops = append(ops, add(termPath+"/matchExpressions", []any{value}))
		} else {
			ops = append(ops, add(termPath+"/matchExpressions/-", value))
		}
	}
	return ops
}

// tolerates is Kubernetes' Toleration.ToleratesTaint.
func tolerates(t toleration, taint taint) bool {
	if t.Effect != nil && *t.Effect != "" && (taint.Effect == nil || *t.Effect != *taint.Effect) {
		return false
	}
	key, op := "", "Equal"
	if t.Key != nil {
		key = *t.Key
	}
	if t.Operator != nil {
		op = *t.Operator
	}
	if key == "" {
		return op == "Exists"
	}
	if key != taint.Key {
		return false
	}
	switch op {
	case "Exists":
		return true
	case "Equal":
		value, taintValue := "", ""
		if t.Value != nil {
			value = *t.Value
		}
		if taint.Value != nil {
			taintValue = *taint.Value
		}
		return value == taintValue
	default:
		return false
	}
}

func anyTolerates(tolerations []toleration, taint taint) bool {
	for _, t := range tolerations {
		if tolerates(t, taint) {
			return true
		}
	}
	return false
}

func tolerationFor(taint taint) map[string]any {
	fields := map[string]any{"key": taint.Key}
	if taint.Value != nil && *taint.Value != "" {
		fields["operator"] = "Equal"
		fields["value"] = *taint.Value
	} else {
		fields["operator"] = "Exists"
	}
	if taint.Effect != nil && *taint.Effect != "" {
		fields["effect"] = *taint.Effect
	}
	return fields
}

// ---- The signal cache (KarbonetesSignalClient.CachedSignal): fresh within the TTL, stale
// within the stale limit, refreshed in the background every TTL/2 for every region asked for.

type signalEntry struct {
	value     *carbonSignal
	fetchedAt time.Time
	lastError string
	inFlight  chan struct{}
}

type signalCache struct {
	baseURL    string
	client     *http.Client
	ttl        time.Duration
	staleLimit time.Duration
	mu         sync.Mutex
	entries    map[string]*signalEntry
}

func newSignalCache(baseURL string, ttl, staleLimit time.Duration) *signalCache {
	return &signalCache{baseURL: strings.TrimSuffix(baseURL, "/"), client: &http.Client{Timeout: 800 * time.Millisecond},
		ttl: ttl, staleLimit: staleLimit, entries: map[string]*signalEntry{}}
}

func (c *signalCache) reading(region string) signalReading {
	c.mu.Lock()
	if entry, ok := c.entries[region]; ok && entry.value != nil && time.Since(entry.fetchedAt) < c.ttl {
		value := entry.value
		c.mu.Unlock()
		return signalReading{signal: value}
	}
	c.mu.Unlock()
	c.refresh(region)
	return c.cached(region)
}

func (c *signalCache) cached(region string) signalReading {
	c.mu.Lock()
	defer c.mu.Unlock()
	entry, ok := c.entries[region]
	if !ok {
		return signalReading{unavailableReason: "no signal fetched yet"}
	}
	if entry.value != nil {
		age := time.Since(entry.fetchedAt)
		if age < c.staleLimit {
			return signalReading{signal: entry.value}
		}
		reason := entry.lastError
		if reason == "" {
			reason = "refresh failed"
		}
		return signalReading{unavailableReason: fmt.Sprintf("last signal is %ds old, past the stale limit; %s", int(age.Seconds()), reason)}
	}
	if entry.lastError != "" {
		return signalReading{unavailableReason: entry.lastError}
	}
	return signalReading{unavailableReason: "no signal"}
}

// refresh fetches one region once at a time: concurrent callers wait for the same fetch.
func (c *signalCache) refresh(region string) {
	c.mu.Lock()
	entry, ok := c.entries[region]
	if !ok {
		entry = &signalEntry{}
		c.entries[region] = entry
	}
	if wait := entry.inFlight; wait != nil {
		c.mu.Unlock()
		<-wait
		return
	}
	done := make(chan struct{})
	entry.inFlight = done
	c.mu.Unlock()

	value, err := c.fetch(region)
	c.mu.Lock()
	entry.inFlight = nil
	if err == nil {
		entry.value, entry.fetchedAt, entry.lastError = value, time.Now(), ""
	} else {
		if entry.lastError == "" {
			log.Printf("carbon signal fetch failed for region %s: %v", region, err)
		}
		entry.lastError = err.Error()
	}
	c.mu.Unlock()
	close(done)
}

func (c *signalCache) fetch(region string) (*carbonSignal, error) {
	response, err := c.client.Get(c.baseURL + "/v1/signal?region=" + url.QueryEscape(region))
	if err != nil {
		return nil, fmt.Errorf("signal service %s unreachable for region %s: %w", c.baseURL, region, err)
	}
	defer response.Body.Close()
	body, err := io.ReadAll(io.LimitReader(response.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("signal service %s: reading the answer for region %s: %w", c.baseURL, region, err)
	}
	if response.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("signal service answered %d for region %s: %s", response.StatusCode, region, strings.TrimSpace(string(body)))
	}
	var signal carbonSignal
	if err := json.Unmarshal(body, &signal); err != nil {
		return nil, fmt.Errorf("signal for region %s is malformed: %w", region, err)
	}
	return &signal, nil
}

func (c *signalCache) run() {
	for {
		time.Sleep(c.ttl / 2)
		c.mu.Lock()
		regions := make([]string, 0, len(c.entries))
		for region := range c.entries {
			regions = append(regions, region)
		}
		c.mu.Unlock()
		for _, region := range regions {
			c.refresh(region)
		}
	}
}

// ---- The HTTP handler (AdmissionReviewHandler.swift, WebhookRoutes.swift).

type groupVersionKind struct {
	Group   string `json:"group"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
}

type admissionResponse struct {
	UID       string   `json:"uid"`
	Allowed   bool     `json:"allowed"`
	Patch     string   `json:"patch,omitempty"`
	PatchType string   `json:"patchType,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
}

type admissionReviewAnswer struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Response   admissionResponse `json:"response"`
}

// lenient decodes one field and keeps nil when it is missing or has another type, as the
// Swift handler's `try? decodeIfPresent` does.
func lenient[T any](fields map[string]json.RawMessage, key string) *T {
	raw, ok := fields[key]
	if !ok {
		return nil
	}
	var value *T
	if err := json.Unmarshal(raw, &value); err != nil {
		return nil
	}
	return value
}

type webhook struct {
	policies policyStore
	signal   *signalCache
}

func writeJSON(w http.ResponseWriter, status int, value any) {
	body, err := json.Marshal(value)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"cannot encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}

func fail(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{"error": message})
}

func isJSON(contentType string) bool {
	mediaType, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(mediaType)) == contentTypeJSONMediaType
}

func (h *webhook) mutate(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		fail(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	if contentType := r.Header.Get("Content-Type"); !isJSON(contentType) {
		got := "none"
		if contentType != "" {
			got = strconv.Quote(contentType)
		}
		fail(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json, got "+got)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is over %d bytes", maxBodyBytes))
			return
		}
		fail(w, http.StatusBadRequest, "cannot read the request body: "+err.Error())
		return
	}
	var review map[string]json.RawMessage
	if err := json.Unmarshal(body, &review); err != nil {
		fail(w, http.StatusBadRequest, "request body is not an AdmissionReview: "+err.Error())
		return
	}
	apiVersion, kind := lenient[string](review, "apiVersion"), lenient[string](review, "kind")
	if kind == nil || *kind != admissionKind || apiVersion == nil || *apiVersion != admissionAPIVersion {
		describe := func(s *string) string {
			if s == nil {
				return "none"
			}
			return *s
		}
		fail(w, http.StatusBadRequest, fmt.Sprintf("expected kind AdmissionReview and apiVersion %s, got kind %s and apiVersion %s", admissionAPIVersion, describe(kind), describe(apiVersion)))
		return
	}
	request := lenient[map[string]json.RawMessage](review, "request")
	if request == nil {
		fail(w, http.StatusBadRequest, "AdmissionReview has no request")
		return
	}
	fields := *request
	uid := lenient[string](fields, "uid")
	if uid == nil || *uid == "" {
		fail(w, http.StatusBadRequest, "AdmissionReview request has no uid")
		return
	}
	answer := func(patch []patchOperation, warnings []string) {
		response := admissionResponse{UID: *uid, Allowed: true}
		if len(warnings) > 0 {
			response.Warnings = warnings
		}
		if len(patch) > 0 {
			encoded, _ := json.Marshal(patch)
			response.Patch, response.PatchType = base64.StdEncoding.EncodeToString(encoded), "JSONPatch"
		}
		writeJSON(w, http.StatusOK, admissionReviewAnswer{APIVersion: *apiVersion, Kind: admissionKind, Response: response})
	}
	if gvk := lenient[groupVersionKind](fields, "kind"); gvk != nil && (gvk.Group != "batch" || gvk.Kind != "Job") {
		answer(nil, nil)
		return
	}
	var j *job
	raw, hasObject := fields["object"]
	if hasObject {
		err = json.Unmarshal(raw, &j)
	}
	if !hasObject || j == nil || err != nil {
		message := "the request has no object"
		if err != nil {
			message = err.Error()
		}
		answer(nil, []string{"carbon-aware: could not read the Job (" + message + "); admitted unchanged"})
		return
	}
	if j.Metadata.Namespace == nil {
		j.Metadata.Namespace = lenient[string](fields, "namespace")
	}
	operation := lenient[string](fields, "operation")
	if exempt(j, operation) {
		answer(nil, nil)
		return
	}
	policy, policyWarnings := resolvePolicy(j, h.policies)
	result := decide(j, policy, policyWarnings, h.signal.reading(policy.region), time.Now())
	warnings := make([]string, 0, len(result.warnings))
	for _, warning := range result.warnings {
		warnings = append(warnings, "carbon-aware: "+warning)
	}
	answer(result.patch, warnings)
}

func loadPolicies(path string) (policyStore, error) {
	store := policyStore{byKey: map[string]carbonAwarePolicy{}}
	if path == "" {
		return store, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return store, err
	}
	var list struct {
		Items []carbonAwarePolicy `json:"items"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return store, fmt.Errorf("%s is not a list of CarbonAwarePolicies: %w", path, err)
	}
	for _, policy := range list.Items {
		if policy.Metadata.Name == nil {
			continue
		}
		namespace := ""
		if policy.Metadata.Namespace != nil {
			namespace = *policy.Metadata.Namespace
		}
		store.byKey[namespace+"/"+*policy.Metadata.Name] = policy
	}
	return store, nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:9444", "address to listen on")
	cert := flag.String("tls-cert-file", "", "PEM certificate")
	key := flag.String("tls-key-file", "", "PEM private key")
	signalURL := flag.String("signal-url", "http://127.0.0.1:8090", "base URL of the carbon signal service")
	ttl := flag.Duration("signal-cache-ttl", 5*time.Second, "how long a signal reading is reused")
	staleLimit := flag.Duration("signal-stale-limit", 5*time.Minute, "how long the last good signal is used while the service fails")
	policyFile := flag.String("policy-file", "", "CarbonAwarePolicies as a Kubernetes List in JSON (kubectl get carbonawarepolicies -A -o json)")
	flag.Parse()

	policies, err := loadPolicies(*policyFile)
	if err != nil {
		log.Fatalf("cannot load policies: %v", err)
	}
	signal := newSignalCache(*signalURL, *ttl, *staleLimit)
	go signal.run()
	hook := &webhook{policies: policies, signal: signal}

	mux := http.NewServeMux()
	mux.HandleFunc("/mutate-batch-v1-job", hook.mutate)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	server := &http.Server{
		Addr:              *listen,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
	}
	log.Printf("listening on %s with %d policies, signal %s", *listen, len(policies.byKey), *signalURL)
	if *cert == "" {
		log.Fatal(server.ListenAndServe())
	}
	log.Fatal(server.ListenAndServeTLS(*cert, *key))
}
