"""Every operational constant of the service, in one place, each with why it has its value.

What an admin may change lives in :mod:`backend.settings` (read from the environment); these
are the fixed choices behind it: names, limits, time-outs, retention and thresholds.
"""

from __future__ import annotations

# -- names -------------------------------------------------------------------------------------

#: Every Redis key ls-active writes starts with this (``lsa:project:<id>:...``, ``lsa:projects``).
REDIS_PREFIX = "lsa"
#: Our prediction versions in Label Studio: ``ls-active-v<n>-<UTC time>`` for trained models.
VERSION_PREFIX = "ls-active-v"
#: The version of the order pushed before any model exists (representative tasks first).
COLD_START_VERSION = "ls-active-cold-start"
#: What every version name of ours starts with (trained ones and the cold start).
OUR_VERSIONS = "ls-active-"
#: The Data Manager tab that lists unlabeled tasks, most informative (lowest score) first.
QUEUE_VIEW_TITLE = "Active learning queue"
#: The project sampling under which "Label All Tasks" serves the lowest score first.
UNCERTAINTY_SAMPLING = "Uncertainty sampling"
#: The title the demo gives its ML backend connection in Label Studio.
ML_BACKEND_TITLE = "ls-active"

# -- the web service ---------------------------------------------------------------------------

#: Largest request body, in bytes: Label Studio's "Retrieve predictions" sends every selected
#: task in one body, and 1,000 long tasks fit well within this.
MAX_BODY_BYTES = 64 * 1024 * 1024
#: Tasks in one ``/predict`` request, at most (the same action, on a whole project).
MAX_TASKS_PER_REQUEST = 20_000
#: Connections one gunicorn worker process serves at once (each a greenlet, not a thread).
WEB_CONNECTIONS = 1000
#: Seconds a client may take to send a request's head (and an idle keep-alive connection lasts).
KEEPALIVE = 5
#: Seconds any later read or write on a connection may wait before it is closed (``CLIENT_TIMEOUT``).
CLIENT_TIMEOUT = 30.0
#: Seconds gunicorn lets a worker process go silent before it restarts it.
WEB_TIMEOUT = 120

# -- text --------------------------------------------------------------------------------------

#: Texts are cut to this many characters before featurizing: longer tails add cost, not signal.
MAX_TEXT_CHARS = 20_000
#: A multi-label prediction names every label at least this probable.
MULTILABEL_THRESHOLD = 0.5
#: Folds of the labeled set a multi-label model is cross-fitted on at train time, to choose
#: each label's own threshold (and the top-label floor) on probabilities of unseen tasks.
MULTILABEL_FOLDS = 5
#: A label needs this many positives before its own threshold is chosen; with fewer, one
#: lucky or unlucky task would place the cut, so it keeps ``MULTILABEL_THRESHOLD``.
MULTILABEL_MIN_POSITIVES = 3
#: Below this many labeled tasks no thresholds are chosen (the fixed one applies): each
#: fold's model would learn from a handful of tasks and say little about where to cut.
MULTILABEL_MIN_ROWS = 10
#: The folds run on at most this many labeled tasks (a seeded random subset): thresholds
#: matter most early, and this keeps a retrain at 2,000 labels near its cost without them.
MULTILABEL_FOLD_ROWS = 500
#: Bounds of a chosen threshold: a cut at the very edge fits a few tasks, not the label.
MULTILABEL_THRESHOLD_RANGE = (0.05, 0.95)

# -- per-project model and loop settings (backend.loop.options) ---------------------------------

#: What a regularization C may be (``MODEL_C``, extra_params ``C``): far outside it a logistic
#: regression learns nothing or memorises its labels.
MODEL_C_RANGE = (1e-4, 1e4)
#: Where a model's calibration temperature is fitted (``CALIBRATE``, extra_params ``calibrate``):
#: ``audit`` on the labeled audit tasks (a random sample of the pool), ``folds`` out of fold
#: on every label, ``off`` not at all. ``true``/``false`` read as ``folds``/``off``.
CALIBRATE_MODES = ("audit", "folds", "off")
CALIBRATE = "audit"
#: Class weights: ``none`` (every label counts once) or ``balanced`` (inversely to its class's count).
CLASS_WEIGHTS = ("none", "balanced")
#: The largest ranking batch (``BATCH_SIZE``, extra_params ``batch_size``) a project may ask for.
MAX_BATCH_SIZE = 1_000

# -- jobs and Redis ----------------------------------------------------------------------------

#: Seconds RQ keeps a finished retrain or rescore (``/job_status`` and ``check`` read them).
LOOP_RESULT_TTL = 86_400
#: Seconds RQ keeps a finished side job (scoring new tasks, the report, cleanup).
SIDE_RESULT_TTL = 3_600
#: Seconds RQ keeps a failed job in its failed registry, for the admin to read.
FAILURE_TTL = 7 * 86_400
#: Seconds the scores of a pushed version stay in Redis for ``/predict`` to answer with.
SCORES_TTL = 7 * 86_400
#: Seconds a "cleanup pending" flag outlives a cleanup job that was lost.
CLEANUP_PENDING_TTL = 3_600
#: Seconds before a cleanup that stopped for other jobs tries again.
CLEANUP_RETRY_SECONDS = 30
#: Memory the embedded Redis may use (``REDIS_MAXMEMORY``); past it, writes are refused.
EMBEDDED_REDIS_MAXMEMORY = "512mb"
#: Redis client time-outs, in seconds: connecting, and waiting for an answer.
REDIS_CONNECT_TIMEOUT = 2.0
REDIS_SOCKET_TIMEOUT = 10.0
#: Seconds a worker that RQ stopped on a Redis error waits for Redis to answer before it exits
#: (long enough for a Redis restart or fail-over; a supervisor takes over after that).
REDIS_RECONNECT_SECONDS = 300.0
#: Ids of new tasks per scoring job (a job reads them from Label Studio; only ids are queued).
MAX_NEW_TASKS_PER_JOB = 5_000
#: Unlabeled tasks sampled once per project: consecutive versions' predictions on them show
#: whether the model has stopped changing (stabilizing predictions).
STOP_SET_SIZE = 1_000
#: Share of the queue drawn uniformly at random as the audit sample (``AUDIT_SHARE``): every
#: quality figure, the stop advice and "labels saved" rest on it. Measured (BENCHMARKS.md,
#: "Audit sample"): a tenth shows a figure from 300 labels, whose interval held the truth in
#: 85-100% of versions, for -18% to +22% labels to 95% of full-pool accuracy; 5% costs at
#: most 10% but shows its first figure only at 600 labels.
AUDIT_SHARE = 0.1

# -- Label Studio ------------------------------------------------------------------------------

#: The Label Studio release whose behaviour LS_PROTOCOL.md records and the tests rely on.
LABEL_STUDIO_VERSION = "1.23.2"
#: Seconds one call to Label Studio may take, and its connection at most.
LS_TIMEOUT = 120.0
LS_CONNECT_TIMEOUT = 5.0
#: Label Studio recounts every task of the project after each bulk prediction import, so
#: fewer, larger requests are much faster; above this many predictions a call is split.
MAX_PREDICTIONS_PER_REQUEST = 50_000
#: Seconds a first start of a local Label Studio may take (migrations: 26-55 s idle, 174 s loaded).
LS_STARTUP_TIMEOUT = 300.0
#: Seconds ``pip install label-studio`` may take (about 2 minutes on a two-core machine).
LS_INSTALL_TIMEOUT = 1_800.0
#: Redis memory a project's cached unlabeled pool may take, in MB (``POOL_CACHE_MAX_MB``).
POOL_CACHE_MAX_MB = 256
#: Seconds before a cached pool is read in full again (``POOL_CACHE_MAX_AGE``): edits of task
#: data send no webhook.
POOL_CACHE_MAX_AGE = 3_600
#: Unlabeled tasks from which the head of the order is pushed first (``HEAD_FIRST_MIN_TASKS``).
HEAD_FIRST_MIN_TASKS = 3_000
