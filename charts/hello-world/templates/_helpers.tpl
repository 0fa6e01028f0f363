{{/* Namespace of every object: .Values.namespace, or the release namespace. */}}
{{- define "hello-world.namespace" -}}
{{- .Values.namespace | default .Release.Namespace -}}
{{- end -}}

{{/* Labels that select the pods of either runtime: the Service depends on them. */}}
{{- define "hello-world.selectorLabels" -}}
app.kubernetes.io/name: {{ .Values.appName }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Standard labels on every object. */}}
{{- define "hello-world.labels" -}}
{{ include "hello-world.selectorLabels" . }}
app.kubernetes.io/version: {{ include "hello-world.tag" . | quote }}
app.kubernetes.io/component: docs
app.kubernetes.io/part-of: hello-world
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 }}
{{- end -}}

{{- define "hello-world.tag" -}}
{{- .Values.image.tag | default .Chart.AppVersion -}}
{{- end -}}

{{/* The artifact of the runtime: the native image, or the Spin OCI artifact (<name>-spin),
by its tag and, when the runtime's digest is set, pinned to that digest. */}}
{{- define "hello-world.image" -}}
{{- $name := .Values.image.name -}}
{{- if eq .Values.runtime "spin" -}}
{{- $name = printf "%s-spin" $name -}}
{{- end -}}
{{- $digest := get (.Values.image.digests | default dict) .Values.runtime | default "" -}}
{{- printf "%s/%s:%s%s" (trimSuffix "/" .Values.image.registry) $name (include "hello-world.tag" .) (ternary (printf "@%s" $digest) "" (ne $digest "")) -}}
{{- end -}}

{{/* The port the pods listen on: runtime-shim's is configurable, Spin's is fixed at 80. */}}
{{- define "hello-world.podPort" -}}
{{- if eq .Values.runtime "spin" -}}80{{- else -}}{{ .Values.service.targetPort }}{{- end -}}
{{- end -}}

{{/* Non-empty when the native pods serve metrics (runtime-shim's --metrics-listen). */}}
{{- define "hello-world.metrics" -}}
{{- if and (eq .Values.runtime "native") .Values.metrics.enabled -}}true{{- end -}}
{{- end -}}

{{/* Non-empty when the Spin pods export OpenTelemetry somewhere. */}}
{{- define "hello-world.spinOtel" -}}
{{- if eq .Values.runtime "spin" -}}
{{- with .Values.spin.otel -}}
{{- if or .endpoint .tracesEndpoint .metricsEndpoint .logsEndpoint -}}true{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
