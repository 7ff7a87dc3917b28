{{/* Names. Cluster-scoped singletons (the CRDs, the webhook configuration) keep
fixed names: one operator serves the bemade.org group of a cluster. */}}

{{- define "odoo-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "odoo-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "odoo-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "odoo-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "odoo-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "odoo-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "odoo-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "odoo-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "odoo-operator.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The Service the API server calls for /convert and /validate-…. */}}
{{- define "odoo-operator.webhookService" -}}
{{- printf "%s-webhook" (include "odoo-operator.fullname" .) -}}
{{- end -}}

{{/* The Secret holding the webhook certificate: written by the operator
(built-in certificates) or by cert-manager. */}}
{{- define "odoo-operator.webhookCertSecret" -}}
{{- printf "%s-webhook-certs" (include "odoo-operator.fullname" .) -}}
{{- end -}}

{{/* The ValidatingWebhookConfiguration: a fixed name, which the generated
ClusterRole (config/rbac/role.yaml) grants by name. */}}
{{- define "odoo-operator.validatingWebhookName" -}}
odoo-operator-validating
{{- end -}}

{{/* cert-manager injects the CA of this Certificate into caBundles. */}}
{{- define "odoo-operator.certManagerCertificate" -}}
{{- printf "%s-webhook" (include "odoo-operator.fullname" .) -}}
{{- end -}}

{{- define "odoo-operator.certManagerEnabled" -}}
{{- if and .Values.webhook.enabled .Values.webhook.certManager.enabled -}}true{{- end -}}
{{- end -}}

{{/* Annotations of the CRDs: kept when the release is uninstalled (deleting
a CRD deletes every object of its kind, so every Odoo instance), and the CA
injection when cert-manager provides the certificate. */}}
{{- define "odoo-operator.crdAnnotations" -}}
{{- if .Values.crds.keep }}
helm.sh/resource-policy: keep
{{- end }}
{{- if include "odoo-operator.certManagerEnabled" . }}
cert-manager.io/inject-ca-from: {{ .Release.Namespace }}/{{ include "odoo-operator.certManagerCertificate" . }}
{{- end }}
{{- end -}}

{{/* spec.conversion of the CRDs with legacy versions: every version converts
through the operator's /convert from the moment the CRD exists (with the
strategy None a legacy object stored before would be relabelled and pruned on
read: data lost). The operator (or cert-manager) fills in caBundle. Kept with
webhook.enabled=false too: a conversion then fails loudly instead of pruning. */}}
{{- define "odoo-operator.crdConversion" -}}
conversion:
  strategy: Webhook
  webhook:
    conversionReviewVersions: ["v1"]
    clientConfig:
      service:
        namespace: {{ .Release.Namespace }}
        name: {{ include "odoo-operator.webhookService" . }}
        path: /convert
        port: 443
{{- end -}}

{{/* served: of the legacy versions (bemade.org/v1, v1alpha1). */}}
{{- define "odoo-operator.legacyServed" -}}
{{- if and .Values.legacyVersions.served (not .Values.webhook.enabled) -}}
{{- fail "legacyVersions.served=true needs webhook.enabled=true: legacy objects are converted by the operator's /convert webhook" -}}
{{- end -}}
{{- ternary "true" "false" (eq (toString .Values.legacyVersions.served) "true") -}}
{{- end -}}
