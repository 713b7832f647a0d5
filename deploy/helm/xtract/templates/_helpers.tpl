{{- define "xtract.env" -}}
- name: XTRACT_HOME
  value: /xtract
- name: XTRACT_REDIS_SENTINELS
  value: {{ include "xtract.sentinels" . | quote }}
- name: XTRACT_REDIS_MASTER
  value: {{ .Values.valkey.master | quote }}
- name: XTRACT_ALLOWED_ROOTS
  value: {{ .Values.data.allowedRoots | toJson | quote }}
{{- end -}}

{{- define "xtract.sentinels" -}}
{{- $hosts := list -}}
{{- range $i := until (int .Values.valkey.sentinels) -}}
{{- $hosts = append $hosts (printf "%s-sentinel-%d.%s-sentinel:26379" $.Release.Name $i $.Release.Name) -}}
{{- end -}}
{{- $hosts | toJson -}}
{{- end -}}

{{- define "xtract.volumes" -}}
- name: home
  persistentVolumeClaim:
    claimName: {{ .Values.home.existingClaim | default (printf "%s-home" .Release.Name) }}
- name: data
  persistentVolumeClaim:
    claimName: {{ .Values.data.existingClaim }}
    readOnly: true
{{- end -}}

{{- define "xtract.mounts" -}}
- name: home
  mountPath: /xtract
- name: data
  mountPath: /data
  readOnly: true
{{- end -}}
