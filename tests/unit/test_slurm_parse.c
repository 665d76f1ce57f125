/*
 * test_slurm_parse: Slurm's output (squeue, sacct, scontrol, sbatch) into
 * executor states, and the batch script, as tables.
 */
#include "dispatch/slurm_parse.h"
#include "unit.h"

TEST(states)
{
	static const struct {
		const char *word;
		enum worker_state want;
	} t[] = {
		{"PENDING", WS_QUEUED},	      {"RUNNING", WS_RUNNING},
		{"COMPLETING", WS_RUNNING},   {"COMPLETED", WS_SUCCEEDED},
		{"FAILED", WS_FAILED},	      {"TIMEOUT", WS_FAILED},
		{"OUT_OF_MEMORY", WS_FAILED}, {"NODE_FAIL", WS_FAILED},
		{"CANCELLED", WS_CANCELLED},  {"CANCELLED by 0", WS_CANCELLED},
		{"CANCELLED+", WS_CANCELLED}, {"PREEMPTED", WS_PREEMPTED},
		{"REQUEUED", WS_QUEUED},      {"SUSPENDED", WS_QUEUED},
		{"RUNNINGX", WS_UNKNOWN},     {"", WS_UNKNOWN},
		{"running", WS_UNKNOWN},
	};
	size_t i;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK_STR(worker_state_name(slurm_state(t[i].word)),
			  worker_state_name(t[i].want));
}

TEST(sbatch)
{
	static const struct {
		const char *out;
		int ret;
		const char *id;
	} t[] = {
		{"1234\n", 0, "1234"},
		{"77;lgtest\n", 0, "77"},
		{"  5\n", 0, "5"},
		{"", -22, NULL},
		{"Submitted batch job 12\n", -22, NULL},
		{"12x\n", -22, NULL},
		{"123456789012345678901234567890123\n", -22, NULL},
	};
	char id[32];
	size_t i;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK_INT(slurm_parse_sbatch(t[i].out, id, sizeof(id)), t[i].ret);
		if (t[i].id)
			CHECK_STR(id, t[i].id);
	}
}

TEST(squeue)
{
	static const struct {
		const char *out, *id;
		int ret;
		enum worker_state state;
		const char *native, *reason;
	} t[] = {
		{"3|PENDING|Resources\n", "3", 1, WS_QUEUED, "PENDING", "Resources"},
		{"3|PENDING|Priority\n", "3", 1, WS_QUEUED, "PENDING", "Priority"},
		{"1|RUNNING|None\n2|PENDING|Priority\n", "2", 1, WS_QUEUED, "PENDING",
		 "Priority"},
		{"1|RUNNING|None\n", "1", 1, WS_RUNNING, "RUNNING", ""},
		/* 12 is not 1 */
		{"12|RUNNING|None\n", "1", 0, WS_UNKNOWN, "", ""},
		{"", "1", 0, WS_UNKNOWN, "", ""},
		{"4|COMPLETED|None", "4", 1, WS_SUCCEEDED, "COMPLETED", ""},
		{"4|WEIRD|None\n", "4", -22, WS_UNKNOWN, "WEIRD", ""},
		{"4|RUNNING\n", "4", -22, WS_UNKNOWN, "", ""},
		{"5|PENDING|ReqNodeNotAvail, UnavailableNodes:vm\n", "5", 1, WS_QUEUED,
		 "PENDING", "ReqNodeNotAvail, UnavailableNodes:vm"},
	};
	size_t i;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct executor_status st = EXECUTOR_STATUS_INIT;
		CHECK_INT(slurm_parse_squeue(t[i].out, t[i].id, &st), t[i].ret);
		CHECK_INT(st.state, t[i].state);
		CHECK_STR(st.native, t[i].native);
		CHECK_STR(st.reason, t[i].reason);
	}
}

TEST(sacct)
{
	static const struct {
		const char *out, *id;
		int ret;
		enum worker_state state;
		int exit_code;
		const char *reason;
	} t[] = {
		{"7|COMPLETED|0:0|None\n", "7", 1, WS_SUCCEEDED, 0, ""},
		{"7|FAILED|3:0|NonZeroExitCode\n", "7", 1, WS_FAILED, 3,
		 "NonZeroExitCode"},
		{"7|CANCELLED by 0|0:15|None\n", "7", 1, WS_CANCELLED, 143, "signal 15"},
		{"7|TIMEOUT|0:0|TimeLimit\n", "7", 1, WS_FAILED, 0, "TimeLimit"},
		/* 125 is no signal number: the exit status stays */
		{"7|OUT_OF_MEMORY|0:125|\n", "7", 1, WS_FAILED, 0, ""},
		/* the step lines come after the job's own */
		{"8|RUNNING|0:0|None\n8.batch|RUNNING|0:0|\n", "8", 1, WS_RUNNING, 0, ""},
		{"8.batch|COMPLETED|0:0|\n", "8", 0, WS_UNKNOWN, -1, ""},
		{"9|PREEMPTED|0:0|None\n", "9", 1, WS_PREEMPTED, 0, ""},
	};
	size_t i;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct executor_status st = EXECUTOR_STATUS_INIT;
		CHECK_INT(slurm_parse_sacct(t[i].out, t[i].id, &st), t[i].ret);
		CHECK_INT(st.state, t[i].state);
		CHECK_INT(st.exit_code, t[i].exit_code);
		CHECK_STR(st.reason, t[i].reason);
	}
}

TEST(scontrol)
{
	static const struct {
		const char *out;
		int ret;
		enum worker_state state;
		int exit_code;
		const char *reason, *out_path;
	} t[] = {
		{"JobId=3 JobName=lg-x UserId=root(0) JobState=COMPLETED Reason=None "
		 "Dependency=(null) ExitCode=0:0 StdOut=/tmp/a.out WorkDir=/tmp\n",
		 1, WS_SUCCEEDED, 0, "", "/tmp/a.out"},
		{"JobId=4 JobName=lg-y JobState=FAILED Reason=NonZeroExitCode "
		 "ExitCode=2:0 StdOut=/var/tmp/b.out\n",
		 1, WS_FAILED, 2, "NonZeroExitCode", "/var/tmp/b.out"},
		{"JobId=5 JobName=lg-z JobState=CANCELLED Reason=None ExitCode=0:15\n", 1,
		 WS_CANCELLED, 143, "signal 15", ""},
		/* running: "0:0" is no exit yet */
		{"JobId=6 JobState=RUNNING Reason=None ExitCode=0:0\n", 1, WS_RUNNING, -1,
		 "", ""},
		{"JobId=7 JobState=PENDING Reason=Resources ExitCode=0:0\n", 1, WS_QUEUED,
		 -1, "Resources", ""},
		/* a key that only ends like one is not it */
		{"JobId=8 OldJobState=RUNNING JobState=TIMEOUT Reason=TimeLimit "
		 "ExitCode=0:1\n",
		 1, WS_FAILED, 129, "TimeLimit", ""},
		{"slurm_load_jobs error: Invalid job id specified\n", 0, WS_UNKNOWN, -1,
		 "", ""},
		{"JobId=9 Reason=None\n", -22, WS_UNKNOWN, -1, "", ""},
	};
	size_t i;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct executor_status st = EXECUTOR_STATUS_INIT;
		struct buf path = BUF_INIT;
		CHECK_INT(slurm_parse_scontrol(t[i].out, &st, &path), t[i].ret);
		CHECK_INT(st.state, t[i].state);
		CHECK_INT(st.exit_code, t[i].exit_code);
		CHECK_STR(st.reason, t[i].reason);
		CHECK_STR(path.s, t[i].out_path);
		buf_release(&path);
	}
}

TEST(script)
{
	const char *argv[] = {"loopgate", "worker", "it's", NULL};
	const char *env[] = {"TRASH", NULL};
	struct executor_job job = EXECUTOR_JOB_INIT;
	struct buf s = BUF_INIT, err = BUF_INIT;

	job.run_id = "ABCDEF0123456789abcdef";
	job.worker_id = "w_1";
	job.argv = argv;
	job.cpus = 2;
	job.mem_mb = 2048;
	job.gpus = 1;
	job.time_limit_s = 61;
	job.log_path = "/shared/w1.out";
	job.secret_env = "OPENAI_API_KEY";
	job.env_names = env;
	job.base_commit = "0123abcd";
	CHECK_INT(slurm_script(&job, "gpu", &s, &err), 0);
	CHECK_CONTAINS(s.s, "#!/bin/sh\n#SBATCH --job-name=lg-abcdef0123456789abcdef-w-1\n");
	CHECK_CONTAINS(s.s, "#SBATCH --cpus-per-task=2\n");
	CHECK_CONTAINS(s.s, "#SBATCH --mem=2048M\n");
	CHECK_CONTAINS(s.s, "#SBATCH --gres=gpu:1\n");
	CHECK_CONTAINS(s.s, "#SBATCH --time=2\n");
	CHECK_CONTAINS(s.s, "#SBATCH --partition=gpu\n");
	CHECK_CONTAINS(s.s, "#SBATCH --output=/shared/w1.out\n");
	CHECK_CONTAINS(s.s, "#SBATCH --export=PATH,HOME,LANG,OPENAI_API_KEY,TRASH\n");
	CHECK_CONTAINS(s.s, "LOOPGATE_RUN='ABCDEF0123456789abcdef'; export LOOPGATE_RUN\n"
			    "LOOPGATE_WORKER='w_1'; export LOOPGATE_WORKER\n"
			    "LOOPGATE_BASE='0123abcd'; export LOOPGATE_BASE\n");
	CHECK_CONTAINS(s.s, "exec 'loopgate' 'worker' 'it'\\''s'\n");
	buf_release(&s);

	/* a newline would start a shell line after #SBATCH */
	job.log_path = "/x\nrm -rf /";
	CHECK_INT(slurm_script(&job, NULL, &s, &err), -22);
	job.log_path = NULL;
	job.secret_env = "A=B";
	CHECK_INT(slurm_script(&job, NULL, &s, &err), -22);
	CHECK_CONTAINS(err.s, "not a variable name");
	buf_release(&s);
	buf_release(&err);

	CHECK_INT(slurm_minutes(1), 1);
	CHECK_INT(slurm_minutes(60), 1);
	CHECK_INT(slurm_minutes(61), 2);
	CHECK_INT(slurm_minutes(0), 1);
}

int main(void)
{
	RUN(states);
	RUN(sbatch);
	RUN(squeue);
	RUN(sacct);
	RUN(scontrol);
	RUN(script);
	return unit_done();
}
