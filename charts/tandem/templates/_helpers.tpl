{{/*
Names are fixed, not derived from the release: the webhook configuration and the
ClusterRole are cluster-wide, so there is one tandem per cluster, and the README's
emergency command (`kubectl delete mutatingwebhookconfiguration tandem`) stays true.
*/}}

{{/* tandem.selectorLabels: what the Deployment, Service, PDB and monitors select on. */}}
{{- define "tandem.selectorLabels" -}}
app.kubernetes.io/name: tandem
{{- end }}

{{/* tandem.labels: on every object; part-of as the kustomization adds it. */}}
{{- define "tandem.labels" -}}
app.kubernetes.io/part-of: tandem
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}

{{/* tandem.image: repository with digest when given, else with tag (appVersion by default). */}}
{{- define "tandem.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end }}

{{/* tandem.serviceHost: the name the apiserver calls and the certificate carries. */}}
{{- define "tandem.serviceHost" -}}
tandem.{{ .Release.Namespace }}.svc
{{- end }}

{{/*
tandem.policies: the policies ConfigMap's data as YAML, file name -> text. The built-in
ones are read from the chart's policies/ (Helm reads files inside the chart only; a test
keeps that copy equal to the repository's policies/).
*/}}
{{- define "tandem.policies" -}}
{{- $data := dict -}}
{{- range $name, $on := .Values.policies.builtin -}}
{{- if $on -}}
{{- $text := $.Files.Get (printf "policies/%s.yaml" $name) -}}
{{- if not $text -}}
{{- fail (printf "policies.builtin.%s: the chart has no built-in policy of that name" $name) -}}
{{- end -}}
{{- $_ := set $data (printf "%s.yaml" $name) $text -}}
{{- end -}}
{{- end -}}
{{- range $file, $text := .Values.policies.extra -}}
{{- if not (regexMatch "^[A-Za-z0-9][A-Za-z0-9._-]*\\.ya?ml$" $file) -}}
{{- fail (printf "policies.extra: %q is not a file name ending in .yaml or .yml" $file) -}}
{{- end -}}
{{- if hasKey $data $file -}}
{{- fail (printf "policies.extra: %q has the name of a built-in policy's file; turn the built-in off under policies.builtin, or rename yours" $file) -}}
{{- end -}}
{{- include "tandem.checkSelector" (list $file $text $.Values.webhook.rules) -}}
{{- $_ := set $data $file $text -}}
{{- end -}}
{{- with .Values.policies.params -}}
{{- if hasKey $data "cluster-values.yaml" -}}
{{- fail "policies.extra: \"cluster-values.yaml\" is where policies.params goes; rename yours" -}}
{{- end -}}
{{- $values := dict "apiVersion" "tandem.dev/v1alpha1" "kind" "PolicyValues" "metadata" (dict "name" "cluster") "spec" . -}}
{{- $_ := set $data "cluster-values.yaml" (toYaml $values) -}}
{{- end -}}
{{- toYaml $data -}}
{{- end }}

{{/* tandem.policiesName: the ConfigMap's name with a hash of its content, as kustomize names it. */}}
{{- define "tandem.policiesName" -}}
tandem-policies-{{ include "tandem.policies" . | sha256sum | trunc 10 }}
{{- end }}

{{/*
tandem.checkSelector fails the render when an admin's policy is automatic (a selector or
namespaceInjection) and webhook.rules does not carry its own rules: the built-ins' rules
send only pods that request a policy, so that policy would never be applied (the deploy
test holds the same rule for policies/). Takes (list FILE TEXT RULES); each YAML document
is checked.
*/}}
{{- define "tandem.checkSelector" -}}
{{- $file := index . 0 -}}
{{- $rules := index . 2 -}}
{{- range $text := regexSplit "(?m)^---[ \t]*$" (index . 1) -1 -}}
{{- $policy := fromYaml $text -}}
{{- if hasKey $policy "Error" -}}
{{- fail (printf "policies.extra: %q is not YAML: %s" $file $policy.Error) -}}
{{- end -}}
{{- $spec := dig "spec" dict $policy -}}
{{- if and (not $rules) (or (hasKey $spec "selector") (dig "namespaceInjection" false $spec)) -}}
{{- fail (printf "policies.extra: %q holds an automatic policy (selector or namespaceInjection), which the webhook's rules for the built-ins never reach; write the rules for all your policies with `tandem webhook --chart-rules --policies DIR > rules.yaml` and pass them with --set-file webhook.rules=rules.yaml" $file) -}}
{{- end -}}
{{- end -}}
{{- end }}
