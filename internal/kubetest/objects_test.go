package kubetest

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	src := `# the namespace comes first
apiVersion: v1
kind: Namespace
metadata:
  name: studip
---
# only a comment
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    metadata:
      labels: {app: web}
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: backup
spec:
  schedule: "@daily"
  jobTemplate:
    spec:
      template:
        metadata:
          labels: {app: backup}
`
	o := New()
	if err := o.Read([]byte(src)); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, obj := range o.All {
		names = append(names, obj.GetName())
	}
	if !slices.Equal(names, []string{"studip", "web", "backup"}) {
		t.Errorf("objects %q, want studip, web, backup in the order read", names)
	}
	if o.Namespaces["studip"] == nil || o.Deployments["web"] == nil || o.CronJobs["backup"] == nil {
		t.Errorf("not filed by kind and name: %+v", o)
	}
	pods := o.PodTemplates()
	if got := slices.Sorted(maps.Keys(pods)); !slices.Equal(got, []string{"CronJob backup", "Deployment web"}) {
		t.Errorf("pod templates %q, want CronJob backup and Deployment web", got)
	}
	if pods["CronJob backup"].Labels["app"] != "backup" {
		t.Errorf("CronJob backup's pod template %+v, want its job template's", pods["CronJob backup"])
	}
}

func TestReadRefuses(t *testing.T) {
	service := "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"
	cases := []struct {
		name, src, want string
	}{
		{"an unknown kind", "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: x\n", `document 1: unknown kind "apps/v1 DaemonSet"`},
		{"an unknown field", service + "spec:\n  portz: []\n", `document 1: v1 Service: error unmarshaling JSON: while decoding JSON: json: unknown field "portz"`},
		{"a duplicate field", service + "  name: again\n", `line 5: key "name" already set in map`},
		{"an object defined twice", service + "---\n" + service, `document 2: v1 Service: "web" is defined twice`},
		{"a broken document", service + "---\nkind: [\n", "document 2: reading apiVersion and kind"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := New().Read([]byte(c.src))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}
