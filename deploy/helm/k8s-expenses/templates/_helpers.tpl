{{/*
Names, labels and the pieces every component shares. The receiver, processor and query
Deployments are one template (k8s-expenses.deployment) with a different ROLE and needs.
*/}}

{{- define "k8s-expenses.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "k8s-expenses.fullname" -}}
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

{{/* <fullname>-<suffix>, within the 63 characters of a DNS label. */}}
{{- define "k8s-expenses.resourceName" -}}
{{- printf "%s-%s" (include "k8s-expenses.fullname" .root | trunc (int (sub 62 (len .suffix))) | trimSuffix "-") .suffix -}}
{{- end -}}

{{- define "k8s-expenses.selectorLabels" -}}
app.kubernetes.io/name: {{ include "k8s-expenses.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "k8s-expenses.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "k8s-expenses.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: k8s-expenses
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end -}}

{{/* Pods that serve /metrics: the headless metrics Service selects these, never the migration Job. */}}
{{- define "k8s-expenses.metricsSelectorLabels" -}}
app.kubernetes.io/name: {{ include "k8s-expenses.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
k8s-expenses/metrics: "true"
{{- end -}}

{{- define "k8s-expenses.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/*
An environment value as the service parses it. Values files turn numbers into floats, which
would print 16777216 as 1.6777216e+07: whole numbers are printed as integers.
*/}}
{{- define "k8s-expenses.envValue" -}}
{{- if kindIs "float64" . -}}
{{- if eq (float64 (int64 .)) . -}}{{ int64 . }}{{- else -}}{{ toString . }}{{- end -}}
{{- else -}}
{{- toString . -}}
{{- end -}}
{{- end -}}

{{/*
Variables the chart sets from its own values: refused in `config`, naming the value to use.
*/}}
{{- define "k8s-expenses.ownedVariables" -}}
ROLE: the component's Deployment (receiver, processor, query)
PORT: port
DATA_DIR: dataDir.path
TENANTS_FILE: tenants.existingSecret or tenants.entries
KAFKA_BROKERS: kafka.brokers
KAFKA_TOPIC: kafka.topic
KAFKA_TOPIC_PARTITIONS: kafka.topicPartitions
KAFKA_REPLICATION_FACTOR: kafka.replicationFactor
KAFKA_GROUP_ID: kafka.groupId
CLICKHOUSE_URL: clickhouse.url
CLICKHOUSE_USER: clickhouse.user
CLICKHOUSE_PASSWORD: clickhouse.existingSecret or clickhouse.password
CLICKHOUSE_DATABASE: clickhouse.database
CLICKHOUSE_CLUSTER: clickhouse.cluster
{{- end -}}

{{/* `config` merged with the component's own `config` (the component's wins), checked. */}}
{{- define "k8s-expenses.config" -}}
{{- $owned := include "k8s-expenses.ownedVariables" . | fromYaml -}}
{{- $merged := dict -}}
{{- $sources := list (dict "path" "config" "map" .root.Values.config) (dict "path" (printf "%s.config" .component) "map" (index .root.Values .component).config) -}}
{{- range $source := $sources -}}
{{- range $name, $value := ($source.map | default dict) -}}
{{- if hasKey $owned $name -}}
{{- fail (printf "%s.%s: the chart sets %s itself; use %s" $source.path $name $name (index $owned $name)) -}}
{{- end -}}
{{- $_ := set $merged $name $value -}}
{{- end -}}
{{- end -}}
{{- toYaml $merged -}}
{{- end -}}

{{- define "k8s-expenses.clickhousePasswordSecret" -}}
{{- if .Values.clickhouse.existingSecret -}}
{{- .Values.clickhouse.existingSecret -}}
{{- else if .Values.clickhouse.password -}}
{{- include "k8s-expenses.resourceName" (dict "root" . "suffix" "clickhouse") -}}
{{- end -}}
{{- end -}}

{{- define "k8s-expenses.tenantsSecret" -}}
{{- if and .Values.tenants.existingSecret .Values.tenants.entries -}}
{{- fail "tenants: set existingSecret or entries, not both" -}}
{{- end -}}
{{- if .Values.tenants.existingSecret -}}
{{- .Values.tenants.existingSecret -}}
{{- else if .Values.tenants.entries -}}
{{- include "k8s-expenses.resourceName" (dict "root" . "suffix" "tenants") -}}
{{- end -}}
{{- end -}}

{{/* The directory the tenants Secret is mounted at; TENANTS_FILE is the key's file in it. */}}
{{- define "k8s-expenses.tenantsDir" -}}/etc/k8s-expenses/tenants{{- end -}}

{{/*
The ClickHouse variables, for the processor, the query API and the migration Job.
Arguments: root, secret (the Secret holding the password, or empty).
*/}}
{{- define "k8s-expenses.clickhouseEnv" -}}
{{- $v := .root.Values.clickhouse -}}
{{- if not $v.url -}}
{{- fail "clickhouse.url is required (CLICKHOUSE_URL): the image has no embedded ClickHouse engine" -}}
{{- end -}}
- name: CLICKHOUSE_URL
  value: {{ $v.url | quote }}
- name: CLICKHOUSE_USER
  value: {{ $v.user | quote }}
- name: CLICKHOUSE_DATABASE
  value: {{ $v.database | quote }}
{{- if $v.cluster }}
- name: CLICKHOUSE_CLUSTER
  value: {{ $v.cluster | quote }}
{{- end }}
{{- if .secret }}
- name: CLICKHOUSE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ ternary $v.existingSecretKey "password" (not (empty $v.existingSecret)) }}
{{- end }}
{{- end -}}

{{/* The environment of a component. Arguments: root, component, kafka, clickhouse, tenants (booleans). */}}
{{- define "k8s-expenses.env" -}}
{{- $root := .root -}}
- name: ROLE
  value: {{ .component }}
- name: PORT
  value: {{ include "k8s-expenses.envValue" $root.Values.port | quote }}
- name: DATA_DIR
  value: {{ $root.Values.dataDir.path | quote }}
{{- if .kafka }}
{{- $k := $root.Values.kafka }}
{{- if not $k.brokers }}
{{- fail "kafka.brokers is required (KAFKA_BROKERS): the receiver and the processor run in separate pods and share records through Kafka" }}
{{- end }}
- name: KAFKA_BROKERS
  value: {{ join "," $k.brokers | quote }}
- name: KAFKA_TOPIC
  value: {{ $k.topic | quote }}
- name: KAFKA_TOPIC_PARTITIONS
  value: {{ include "k8s-expenses.envValue" $k.topicPartitions | quote }}
- name: KAFKA_REPLICATION_FACTOR
  value: {{ include "k8s-expenses.envValue" $k.replicationFactor | quote }}
- name: KAFKA_GROUP_ID
  value: {{ $k.groupId | quote }}
{{- end }}
{{- if .clickhouse }}
{{ include "k8s-expenses.clickhouseEnv" (dict "root" $root "secret" (include "k8s-expenses.clickhousePasswordSecret" $root)) }}
{{- end }}
{{- if and .tenants (include "k8s-expenses.tenantsSecret" $root) }}
- name: TENANTS_FILE
  value: {{ printf "%s/%s" (include "k8s-expenses.tenantsDir" $root) $root.Values.tenants.key | quote }}
{{- end }}
{{- $config := include "k8s-expenses.config" . | fromYaml }}
{{- if and (eq .component "receiver") (not (hasKey $config "DECODE_THREADS")) }}
{{- $threads := include "k8s-expenses.cpuLimitCores" $root.Values.receiver.resources }}
{{- if $threads }}
- name: DECODE_THREADS
  value: {{ $threads | quote }}
{{- end }}
{{- end }}
{{- range $name, $value := $config }}
- name: {{ $name }}
  value: {{ include "k8s-expenses.envValue" $value | quote }}
{{- end }}
{{- end -}}

{{/*
The receiver's CPU limit in whole cores, rounded up ("2" -> 2, "1500m" -> 2, "500m" -> 1), or
nothing without a limit: DECODE_THREADS' own default counts the node's cores, not the container's.
*/}}
{{- define "k8s-expenses.cpuLimitCores" -}}
{{- $cpu := toString (((. | default dict).limits | default dict).cpu | default "") -}}
{{- if $cpu -}}
{{- if hasSuffix "m" $cpu -}}
{{- max 1 (div (add (trimSuffix "m" $cpu | int) 999) 1000) -}}
{{- else -}}
{{- max 1 (ceil ($cpu | float64) | int) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Volumes every pod has: the writable places of a read-only root file system. */}}
{{- define "k8s-expenses.scratchVolumes" -}}
- name: data
  emptyDir:
    sizeLimit: {{ .Values.dataDir.sizeLimit }}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end -}}

{{- define "k8s-expenses.scratchMounts" -}}
- name: data
  mountPath: {{ .Values.dataDir.path }}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/* Pod-level settings shared by the Deployments and the migration Job. */}}
{{- define "k8s-expenses.podCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end -}}

{{/*
A component's Deployment. Arguments: root, component (receiver, processor, query), kafka,
clickhouse, tenants (which dependencies it gets), replicas (omitted when an autoscaler owns them),
strategy.
*/}}
{{- define "k8s-expenses.deployment" -}}
{{- $root := .root -}}
{{- $settings := index $root.Values .component -}}
{{- $tenantsSecret := ternary (include "k8s-expenses.tenantsSecret" $root) "" .tenants -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "k8s-expenses.resourceName" (dict "root" $root "suffix" .component) }}
  labels:
    {{- include "k8s-expenses.labels" . | nindent 4 }}
spec:
  {{- if not (kindIs "invalid" .replicas) }}
  replicas: {{ .replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  {{- with .strategy }}
  strategy:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "k8s-expenses.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "k8s-expenses.selectorLabels" . | nindent 8 }}
        k8s-expenses/metrics: "true"
        {{- with $root.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with $root.Values.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      {{- include "k8s-expenses.podCommon" $root | trim | nindent 6 }}
      terminationGracePeriodSeconds: {{ $root.Values.terminationGracePeriodSeconds }}
      containers:
        - name: {{ .component }}
          image: {{ include "k8s-expenses.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          # The Node options of npm start and the image (service/node-flags.ts says why).
          args: ["node", "--initial-old-space-size=128", "dist/service/main.js"]
          env:
            {{- include "k8s-expenses.env" . | nindent 12 }}
          ports:
            - name: http
              containerPort: {{ $root.Values.port }}
              protocol: TCP
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            {{- toYaml $root.Values.probes.liveness | nindent 12 }}
          readinessProbe:
            httpGet:
              path: /ready
              port: http
            {{- toYaml $root.Values.probes.readiness | nindent 12 }}
          resources:
            {{- toYaml $settings.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            {{- include "k8s-expenses.scratchMounts" $root | nindent 12 }}
            {{- if $tenantsSecret }}
            # The directory, never a subPath: the kubelet updates a mounted Secret by swapping the
            # directory's ..data link, and the service reloads the file when that happens.
            - name: tenants
              mountPath: {{ include "k8s-expenses.tenantsDir" $root }}
              readOnly: true
            {{- end }}
      volumes:
        {{- include "k8s-expenses.scratchVolumes" $root | nindent 8 }}
        {{- if $tenantsSecret }}
        - name: tenants
          secret:
            secretName: {{ $tenantsSecret }}
            defaultMode: 0440
            items:
              - key: {{ $root.Values.tenants.key }}
                path: {{ $root.Values.tenants.key }}
        {{- end }}
      {{- with $settings.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $settings.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $settings.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}

{{/* A component's PodDisruptionBudget. Arguments: root, component. */}}
{{- define "k8s-expenses.podDisruptionBudget" -}}
{{- $pdb := (index .root.Values .component).podDisruptionBudget -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "k8s-expenses.resourceName" (dict "root" .root "suffix" .component) }}
  labels:
    {{- include "k8s-expenses.labels" . | nindent 4 }}
spec:
  {{- if hasKey $pdb "minAvailable" }}
  minAvailable: {{ $pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ $pdb.maxUnavailable | default 1 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "k8s-expenses.selectorLabels" . | nindent 6 }}
{{- end -}}

{{/* A component's Service. Arguments: root, component. */}}
{{- define "k8s-expenses.service" -}}
{{- $service := (index .root.Values .component).service -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "k8s-expenses.resourceName" (dict "root" .root "suffix" .component) }}
  labels:
    {{- include "k8s-expenses.labels" . | nindent 4 }}
  {{- with $service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $service.type }}
  selector:
    {{- include "k8s-expenses.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ $service.port }}
      targetPort: http
      protocol: TCP
{{- end -}}
