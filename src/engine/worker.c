/*
 * worker.c: a worker's life cycle.  See worker.h.
 */
#include "engine/agent_turn.h"
#include "engine/worker.h"
#include "store/skills.h"
#include "engine/mcp.h"
#include "engine/run.h"
#include "actor/provider.h"
#include "exec/sandbox.h"
#include "tree/git_guard.h"

#include <stdlib.h>
#include <string.h>

void worker_init(struct worker *w)
{
	memset(w, 0, sizeof(*w));
	w->judge = (struct judge)JUDGE_INIT;
	buf_init(&w->edit_feedback, 0);
	buf_init(&w->edit_paths, 0);
}

void worker_bind_judge(struct worker *w, struct run *r)
{
	struct judge *j = &w->judge;
	j->cfg = r->cfg;
	j->ev = &r->ev;
	j->run_id = r->id;
	j->run_dir = r->run_dir;
	j->tree = w->tree;
	j->artifacts = w->artifacts;
	j->deadline_at = r->budget.deadline_at;
	j->sandbox = w->sandbox;
	j->policy = r->cfg->policy;
}

void iteration_release(struct iteration *it)
{
	for (size_t i = 0; i < it->nchanged; i++)
		free(it->changed[i]);
	free(it->changed);
	free(it->gate_desc);
	free(it->commit);
	free(it->reverted_paths);
	free(it->actor_desc);
	free(it->actor_tail);
	free(it->net_denied);
	free(it->actor_advice);
}

void worker_release(struct worker *w)
{
	if (w->sandbox) {
		sandbox_release(w->sandbox);
		free(w->sandbox);
		w->sandbox = NULL;
	}
	if (w->prov)
		provider_free(w->prov);
	w->prov = NULL;
	if (w->esc_prov)
		provider_free(w->esc_prov);
	w->esc_prov = NULL;
	free(w->vote_note);
	w->vote_note = NULL;
	skills_close(w->skills);
	w->skills = NULL;
	mcp_stop(w->mcp);
	w->mcp = NULL;
	agent_worker_release(w);
	free(w->reverify_note);
	w->reverify_note = NULL;
	for (size_t i = 0; i < w->nits; i++)
		iteration_release(&w->its[i]);
	free(w->its);
	w->its = NULL;
	w->nits = 0;
	buf_release(&w->edit_feedback);
	buf_release(&w->edit_paths);
	protect_release(&w->protect);
	git_guard_free(w->git_guard);
	w->git_guard = NULL;
	judge_release(&w->judge);
	free(w->tree);
	free(w->branch);
	free(w->artifacts);
	w->tree = w->branch = w->artifacts = NULL;
}
