{{/* Object-name prefix: the release name when it already says karbonetes. */}}
{{- define "karbonetes.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "karbonetes.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ default .Chart.Name .Values.nameOverride }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: karbonetes
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component; call with (dict "root" $ "component" "webhook"). */}}
{{- define "karbonetes.selectorLabels" -}}
app.kubernetes.io/name: {{ default .root.Chart.Name .root.Values.nameOverride }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "karbonetes.componentLabels" -}}
{{ include "karbonetes.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "karbonetes.signalURL" -}}
{{- printf "http://%s-signal.%s.svc:%v" (include "karbonetes.fullname" .) .Release.Namespace .Values.signal.service.port -}}
{{- end -}}

{{- define "karbonetes.webhookTLSSecret" -}}
{{- printf "%s-webhook-tls" (include "karbonetes.fullname" .) -}}
{{- end -}}

{{/* Pod-level security context meeting the Pod Security Standard "restricted". */}}
{{- define "karbonetes.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "karbonetes.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Scheduling fields of one component's pod spec; call with (dict "root" $ "component" "webhook" "values" .Values.webhook). */}}
{{- define "karbonetes.scheduling" -}}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if .values.topologySpreadConstraints }}
topologySpreadConstraints:
{{- range .values.topologySpreadConstraints }}
  {{- $constraint := . }}
  {{- if not $constraint.labelSelector }}
  {{- $constraint = merge (dict "labelSelector" (dict "matchLabels" (include "karbonetes.selectorLabels" $ | fromYaml))) $constraint }}
  {{- end }}
  {{- toYaml (list $constraint) | nindent 2 }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "karbonetes.image" -}}
{{- printf "%s:%s" .repository .tag -}}
{{- end -}}
