/*
 * cmd_kueue.c: `loopgate kueue manifests --tenant NAME` — what a cluster
 * administrator applies so that a tenant's loopgate workers run as
 * Kubernetes Jobs under Kueue (dispatch/kube_manifest.h).
 *
 * Prints the objects as one YAML stream (each document is JSON, which is
 * YAML: `kubectl apply -f -` reads it), with the model endpoint and the
 * next steps as comments; --json prints them as one JSON array.
 */
#include "cli/cmd.h"
#include "dispatch/kube_manifest.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char kueue_usage[] =
	"usage: loopgate kueue manifests --tenant NAME [options]\n"
	"\n"
	"Prints what one tenant needs on a cluster with Kueue: its Namespace\n"
	"(loopgate-NAME), the ResourceFlavor, a ClusterQueue holding the tenant's\n"
	"quota (only its namespace may use it), the LocalQueue 'loopgate' in the\n"
	"namespace, a ServiceAccount with a Role for exactly what loopgate asks of\n"
	"the API server, and the model endpoint (an OpenAI-compatible vLLM Service).\n"
	"Apply with: loopgate kueue manifests --tenant NAME | kubectl apply -f -\n"
	"\n"
	"  --tenant NAME    lower-case letters, digits and '-', up to 40\n"
	"  --cpu N          CPU quota (default 8)\n"
	"  --memory Q       memory quota (default 32Gi)\n"
	"  --gpu N          nvidia.com/gpu quota (default 0: none)\n"
	"  --vllm SVC       the model Service, NAME.NAMESPACE[:PORT] (default "
	"vllm.vllm:8000)\n"
	"  --json           one JSON array instead of the YAML stream\n";

enum { O_TENANT = 256, O_CPU, O_MEMORY, O_GPU, O_VLLM, O_JSON };

static const struct option options[] = {
	{"tenant", required_argument, NULL, O_TENANT},
	{"cpu", required_argument, NULL, O_CPU},
	{"memory", required_argument, NULL, O_MEMORY},
	{"gpu", required_argument, NULL, O_GPU},
	{"vllm", required_argument, NULL, O_VLLM},
	{"json", no_argument, NULL, O_JSON},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* A quantity as Kubernetes writes one: digits, an optional suffix. */
static int quantity_ok(const char *s)
{
	static const char *const sfx[] = {"",	"m",  "k",  "M",  "G", "T",
					  "Ki", "Mi", "Gi", "Ti", NULL};
	size_t n = strspn(s, "0123456789");
	int i;
	if (!n)
		return 0;
	for (i = 0; sfx[i]; i++)
		if (!strcmp(s + n, sfx[i]))
			return 1;
	return 0;
}

static void print_yaml(json_t *all, const struct kube_tenant *t)
{
	char *url = kube_tenant_base_url(t);
	json_t *o;
	size_t i;

	printf("# loopgate tenant '%s': apply with kubectl apply -f -\n"
	       "# Then, in namespace loopgate-%s, the model's API key as a Secret:\n"
	       "#   kubectl -n loopgate-%s create secret generic loopgate-model \\\n"
	       "#     --from-literal=OPENAI_API_KEY=...\n"
	       "# Model endpoint (OpenAI-compatible vLLM): base_url: %s\n"
	       "# Workers: --executor kueue --queue loopgate --namespace "
	       "loopgate-%s \\\n"
	       "#   --image IMAGE --secret loopgate-model --service-account loopgate\n",
	       t->name, t->name, t->name, url, t->name);
	json_array_foreach(all, i, o)
	{
		char *s = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("---\n%s\n", s);
		free(s);
	}
	free(url);
}

static int manifests(int argc, char **argv)
{
	struct kube_tenant t = {.cpu = "8", .memory = "32Gi", .gpu = "0"};
	struct buf err = BUF_INIT;
	int opt, json = 0;
	json_t *all;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(kueue_usage, stdout);
			return 0;
		case O_TENANT:
			t.name = optarg;
			break;
		case O_CPU:
			t.cpu = optarg;
			break;
		case O_MEMORY:
			t.memory = optarg;
			break;
		case O_GPU:
			t.gpu = optarg;
			break;
		case O_VLLM:
			t.vllm = optarg;
			break;
		case O_JSON:
			json = 1;
			break;
		default:
			return cmd_usage_error("kueue manifests", argv[optind - 1]);
		}
	}
	if (!t.name) {
		fprintf(stderr, "loopgate: which tenant? (--tenant NAME)\n");
		return CMD_USAGE;
	}
	if (!quantity_ok(t.cpu) || !quantity_ok(t.memory) || !quantity_ok(t.gpu)) {
		fprintf(stderr, "loopgate: a quota is a number with an optional unit "
				"(8, 500m, 32Gi)\n");
		return CMD_USAGE;
	}
	if (!(all = kube_tenant_manifests(&t, &err))) {
		fprintf(stderr, "loopgate: %s\n", err.s);
		buf_release(&err);
		return CMD_USAGE;
	}
	if (json)
		cmd_print_json(all);
	else {
		print_yaml(all, &t);
		json_decref(all);
	}
	return CMD_OK;
}

static int cmd_kueue(int argc, char **argv)
{
	return cmd_group(argc, argv, "manifests", manifests, kueue_usage);
}

const struct cmd_entry cmd_kueue_entry = {
	.name = "kueue",
	.summary = "print the Kubernetes and Kueue objects a tenant needs",
	.exec = cmd_kueue,
};
