/*
 * prompt: what the actor is told each iteration.
 *
 * The system text teaches the edit syntax (model actors) or says to edit
 * the files in place (command actors).  The user text holds, in order: the
 * goal; the gate commands; the latest failing gate with its raw output,
 * byte for byte when it fits feedback_max_bytes, else condensed by
 * feedback_condense (whole lines, gaps marked, never reworded); line-numbered
 * excerpts of the files that output names; the outcome of the previous
 * iteration's edit blocks; the files the user asked for with --context; the
 * repository's file list; a factual history of earlier iterations.
 *
 * Raw output is fenced with a backtick run longer than any inside it, so no
 * output can close the fence early.
 */
#ifndef LOOPGATE_PROMPT_H
#define LOOPGATE_PROMPT_H

#include "engine/worker.h"

/* What a prompt is made of: the run's goal and gates, and one worker's
 * state (its tree, latest gate result, edit feedback, files, history). */
struct prompt_in {
	const struct config *cfg;
	const char *goal;
	const char *run_dir; /* gate output files are relative to it */
	const struct worker *w;
};

/* once: `loopgate once` (no gate): one turn, reviewed by a person. */
void prompt_system(int command_actor, int once, struct buf *out);
void prompt_user(const struct prompt_in *in, struct buf *out);
/* Appends text inside a fence that its content cannot close. */
void prompt_fence(struct buf *out, const char *info, const char *text, size_t len);

#endif
