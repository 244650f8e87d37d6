"""The whole domain as Piccolo tables; engine-agnostic (piccolo_conf.py picks SQLite or PostgreSQL).

Counters on Project and Task are maintained by the services that write annotations and tasks,
so list pages and dashboards never count rows of a million-task project.
Composite indexes live in the migrations (Piccolo declares only single-column ones).
Scores and lead times are double precision: PostgreSQL's REAL would change 4.288 into 4.28800011.
"""

from __future__ import annotations

from piccolo.columns import (
    JSONB,
    BigInt,
    Boolean,
    Bytea,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    Real,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ROLES = ("admin", "reviewer", "annotator")
PROJECT_ROLES = ("annotator", "reviewer")
SAMPLING = ("Sequential sampling", "Uniform sampling", "Uncertainty sampling")
SKIP_QUEUE = ("REQUEUE_FOR_OTHERS", "REQUEUE_FOR_ME", "IGNORE_SKIPPED")
JOB_STATES = ("queued", "running", "done", "failed")


class User(Table, tablename="lw_user"):
    email = Varchar(length=254, unique=True, index=True)
    password = Varchar(length=255)  # argon2 hash, never the password
    first_name = Varchar(length=150, default="")
    last_name = Varchar(length=150, default="")
    role = Varchar(length=16, default="annotator")
    is_active = Boolean(default=True)
    date_joined = Timestamptz(default=TimestamptzNow())
    last_login = Timestamptz(null=True, default=None)
    last_activity = Timestamptz(null=True, default=None)
    hotkeys = JSONB(default={})  # the workspace's action keys this user remapped: {"submit": "ctrl+enter", …}


class ApiToken(Table, tablename="lw_api_token"):
    """One legacy `Authorization: Token <key>` key per user, as Label Studio has."""

    user = ForeignKey(User, unique=True, on_delete=OnDelete.cascade)
    key = Varchar(length=64, unique=True, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used = Timestamptz(null=True, default=None)


class PersonalToken(Table, tablename="lw_personal_token"):
    """A personal access token (Label Studio's JWT refresh token): the token itself is never
    stored, only its id (`jti`), so a database copy holds nothing that signs in; revoking one
    stops the access tokens made from it at once."""

    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    jti = Varchar(length=64, unique=True, index=True)
    hint = Varchar(length=16, default="")  # the token's last characters, to tell tokens apart in the list
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    last_used = Timestamptz(null=True, default=None)


class Project(Table, tablename="lw_project"):
    title = Varchar(length=50)
    description = Text(default="")
    expert_instruction = Text(default="")
    show_instruction = Boolean(default=False)
    label_config = Text(default="<View></View>")
    maximum_annotations = Integer(default=1)
    overlap_cohort_percentage = Integer(default=100)
    sampling = Varchar(length=32, default="Sequential sampling")
    skip_queue = Varchar(length=32, default="REQUEUE_FOR_OTHERS")
    show_skip_button = Boolean(default=True)
    enable_empty_annotation = Boolean(default=True)
    show_annotation_history = Boolean(default=False)
    show_collab_predictions = Boolean(default=True)
    annotators_see_others = Boolean(default=False)
    model_version = Varchar(length=255, default="")  # the predictions annotators start from ("" = the newest)
    evaluate_predictions_automatically = Boolean(default=True)  # ask the model when a task without one is opened
    start_training_on_annotation_update = Boolean(default=False)  # send annotation webhooks to the model
    ground_truth_checks = Integer(default=0)  # percent of queue picks that are ground-truth tasks, as checks
    agreement_version = Integer(default=0)  # bumped when any task's stored agreement changes
    control_weights = JSONB(default={})
    color = Varchar(length=16, default="#FFFFFF")
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    # maintained counters
    task_number = Integer(default=0)
    finished_task_number = Integer(default=0)
    total_annotations_number = Integer(default=0)
    skipped_annotations_number = Integer(default=0)
    total_predictions_number = Integer(default=0)
    next_inner_id = Integer(default=1)


class ProjectMember(Table, tablename="lw_project_member"):
    project = ForeignKey(Project, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=16, default="annotator")
    created_at = Timestamptz(default=TimestamptzNow())


class FileUpload(Table, tablename="lw_file_upload"):
    project = ForeignKey(Project, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    file = Varchar(length=512)  # path relative to the upload folder
    original_name = Varchar(length=255, default="")
    content_type = Varchar(length=100, default="")
    size = Integer(default=0)
    sha256 = Varchar(length=64, default="", index=True)
    width = Integer(null=True, default=None)
    height = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    # audio and video, read once with ffprobe (app/uploads/mediainfo.py); video's size is width/height
    duration = DoublePrecision(null=True, default=None)  # seconds
    frame_rate = DoublePrecision(null=True, default=None)
    frame_count = Integer(null=True, default=None)
    sample_rate = Integer(null=True, default=None)
    channels = Integer(null=True, default=None)


class Task(Table, tablename="lw_task"):
    project = ForeignKey(Project, on_delete=OnDelete.cascade)
    inner_id = Integer()  # 1, 2, 3… within the project (Label Studio's inner_id)
    data = JSONB()
    meta = JSONB(default={})
    file_upload = ForeignKey(FileUpload, null=True, on_delete=OnDelete.set_null)
    is_labeled = Boolean(default=False)
    overlap = Integer(default=1)  # annotations this task wants
    total_annotations = Integer(default=0)
    cancelled_annotations = Integer(default=0)
    total_predictions = Integer(default=0)
    agreement = DoublePrecision(null=True, default=None)
    updated_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class TaskLock(Table, tablename="lw_task_lock"):
    task = ForeignKey(Task, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade)
    expire_at = Timestamptz(index=True)
    page = Varchar(length=64, default="")  # the workspace page holding it (its key); "" for the API


class MLBackend(Table, tablename="lw_ml_backend"):
    project = ForeignKey(Project, on_delete=OnDelete.cascade, index=True)
    url = Varchar(length=512)
    title = Varchar(length=255, default="")
    description = Text(default="")
    is_interactive = Boolean(default=False)
    is_active = Boolean(default=True)
    auth_method = Varchar(length=16, default="NONE")
    basic_auth_user = Varchar(length=255, default="")
    basic_auth_pass = Varchar(length=255, default="")
    extra_params = JSONB(default={})
    timeout = Real(default=100.0)
    model_version = Varchar(length=255, default="")
    state = Varchar(length=16, default="DI")  # Label Studio's CO / DI / ER / TR / PR
    error_message = Text(default="")
    auto_update = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Prediction(Table, tablename="lw_prediction"):
    task = ForeignKey(Task, on_delete=OnDelete.cascade, index=True)
    project = ForeignKey(Project, on_delete=OnDelete.cascade)
    ml_backend = ForeignKey(MLBackend, null=True, on_delete=OnDelete.set_null)
    result = JSONB(default=[])
    score = DoublePrecision(null=True, default=None)
    model_version = Varchar(length=255, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Annotation(Table, tablename="lw_annotation"):
    task = ForeignKey(Task, on_delete=OnDelete.cascade, index=True)
    project = ForeignKey(Project, on_delete=OnDelete.cascade)
    completed_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    result = JSONB(default=[])
    was_cancelled = Boolean(default=False)  # a skip
    ground_truth = Boolean(default=False)
    lead_time = DoublePrecision(default=0.0)  # seconds spent, as Label Studio counts it
    parent_prediction = ForeignKey(Prediction, null=True, on_delete=OnDelete.set_null)
    unique_id = Varchar(length=64, default="")
    review_state = Varchar(length=16, default="")  # "" (not reviewed), "accepted" or "rejected"
    review_comment = Text(default="")  # the reviewer's reason, shown to the annotator on a rejection
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class AnnotationDraft(Table, tablename="lw_annotation_draft"):
    """Work in progress, saved as the annotator goes, so nothing is lost."""

    task = ForeignKey(Task, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade)
    annotation = ForeignKey(Annotation, null=True, on_delete=OnDelete.cascade)
    result = JSONB(default=[])
    lead_time = DoublePrecision(default=0.0)
    was_postponed = Boolean(default=False)
    parent_prediction = Integer(null=True, default=None)  # the prediction the work began from
    revision = BigInt(default=0)  # the browser's change counter: older saves never overwrite newer ones
    purpose = Varchar(length=16, default="")  # "" labelling, "adjudication" a reviewer's ground truth in the making
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Review(Table, tablename="lw_review"):
    """A reviewer's decision on one annotation, or an adjudicated ground truth for the task."""

    annotation = ForeignKey(Annotation, on_delete=OnDelete.cascade, index=True)
    task = ForeignKey(Task, on_delete=OnDelete.cascade, index=True)
    reviewer = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    accepted = Boolean(default=False)
    comment = Text(default="")
    fixed_result = JSONB(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class TaskEvent(Table, tablename="lw_task_event"):
    """What happened to a task in review: accepted, rejected, adjudicated (who, when, what)."""

    project = ForeignKey(Project, on_delete=OnDelete.cascade, index=True)
    task = ForeignKey(Task, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    action = Varchar(length=32)
    annotation = Integer(null=True, default=None)  # the annotation it was about, if one
    detail = JSONB(default={})
    created_at = Timestamptz(default=TimestamptzNow())


class AgreementPair(Table, tablename="lw_agreement_pair"):
    """Two annotators' agreement on one control of one task, kept up to date as annotations
    arrive, so dashboards aggregate stored numbers instead of comparing results."""

    project = ForeignKey(Project, on_delete=OnDelete.cascade, index=True)
    task = ForeignKey(Task, on_delete=OnDelete.cascade, index=True)
    control = Varchar(length=255)  # "" for the combined score of the pair
    user_a = Integer()
    user_b = Integer()
    score = DoublePrecision()


class AgreementLabel(Table, tablename="lw_agreement_label"):
    """Per task and label: the mean pair agreement restricted to that label."""

    project = ForeignKey(Project, on_delete=OnDelete.cascade, index=True)
    task = ForeignKey(Task, on_delete=OnDelete.cascade, index=True)
    label = Varchar(length=255)
    score = DoublePrecision()


class AgreementChoice(Table, tablename="lw_agreement_choice"):
    """Each annotator's category on each classification control of a task: what kappa and alpha
    are computed from, without reading every annotation's JSON."""

    project = ForeignKey(Project, on_delete=OnDelete.cascade, index=True)
    task = ForeignKey(Task, on_delete=OnDelete.cascade, index=True)
    control = Varchar(length=255)
    user = Integer()
    category = Text()


class AgreementSummary(Table, tablename="lw_agreement_summary"):
    """The project's agreement report as last computed, and the agreement_version it was computed
    at: pages serve it while it is current, and a job refreshes it on a large project."""

    project = ForeignKey(Project, on_delete=OnDelete.cascade, unique=True)
    version = Integer()
    data = JSONB()
    computed_at = Timestamptz(default=TimestamptzNow())


class ImportRun(Table, tablename="lw_import"):
    """An import on its way in. Its rows wait in the three staging tables below, which no page or
    API reads, until one short transaction copies them into lw_task, lw_annotation and
    lw_prediction with the counters (app/data_import/staging.py). A run whose process died before
    that is swept by the next import: an import is all there or not there at all."""

    project = Integer()  # not a foreign key: a run outlives a deleted project until it is swept
    state = Varchar(length=16, default="staging")  # "staging", then "published" until its rows are cleared
    owner = Varchar(length=255, default="")  # host:pid:start-time of the process staging it
    total = Integer(default=0)  # tasks the import brings
    created_at = Timestamptz(default=TimestamptzNow())
    seen_at = Timestamptz(default=TimestamptzNow())  # the last staged batch


class StagedTask(Table, tablename="lw_import_task"):
    run = Integer()  # the ImportRun; indexed with seq in the migration
    seq = Integer()  # 0, 1, 2… in the file's order: the task gets inner id (first free) + seq
    data = JSONB()
    meta = JSONB(default={})
    file_upload = Integer(null=True, default=None)
    done = Integer(default=0)  # its annotations, skips and predictions, for the task's counters
    skipped = Integer(default=0)
    predicted = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class StagedAnnotation(Table, tablename="lw_import_annotation"):
    run = Integer()
    seq = Integer()  # the staged task it belongs to
    completed_by = Integer(null=True, default=None)
    result = JSONB(default=[])
    was_cancelled = Boolean(default=False)
    ground_truth = Boolean(default=False)
    lead_time = DoublePrecision(default=0.0)
    unique_id = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class StagedPrediction(Table, tablename="lw_import_prediction"):
    run = Integer()
    seq = Integer()
    result = JSONB(default=[])
    score = DoublePrecision(null=True, default=None)
    model_version = Varchar(length=255, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Job(Table, tablename="lw_job"):
    """A background job run by the Celery worker; pages poll it for progress."""

    kind = Varchar(length=64)
    project = ForeignKey(Project, null=True, on_delete=OnDelete.cascade, index=True)
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    state = Varchar(length=16, default="queued", index=True)
    progress = Integer(default=0)
    total = Integer(default=0)
    params = JSONB(default={})
    result = JSONB(default={})
    error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    # who runs it, set when it starts (app/system/recovery.py): a worker that finds a running job
    # whose owner is gone marks it failed, and no second delivery runs a job someone still runs
    worker = Varchar(length=255, default="")


class InstanceSetting(Table, tablename="lw_instance_setting"):
    """A setting an admin changed on the settings page; unset keys fall back to the environment."""

    key = Varchar(length=64, unique=True)
    value = JSONB()
    updated_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    updated_at = Timestamptz(default=TimestamptzNow())


class AuditEvent(Table, tablename="lw_audit_event"):
    """Who changed what, when: admins' and reviewers' changes and every deletion.
    The actor's email and the project id are copied, so the entry outlives both."""

    actor = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    actor_email = Varchar(length=254, default="")
    actor_role = Varchar(length=16, default="")
    action = Varchar(length=64)
    project = Integer(null=True, default=None)
    target = Varchar(length=64, default="")  # "task 12", "user 3", …
    summary = Text(default="")
    detail = JSONB(default={})
    method = Varchar(length=8, default="")
    path = Varchar(length=512, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Session(Table, tablename="lw_session"):
    """A signed-in browser. The cookie holds a random key and this row its hash: logging out,
    a password change or an admin's action ends sessions here, whatever cookies still exist."""

    key_hash = Varchar(length=64, unique=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    created_at = Timestamptz(default=TimestamptzNow())  # the lifetime setting counts from here, live
    last_seen = Timestamptz(default=TimestamptzNow())
    ip = Varchar(length=64, default="")
    user_agent = Varchar(length=255, default="")


class Invite(Table, tablename="lw_invite"):
    """A one-time link that lets a user set their password: an invitation or an admin's reset."""

    token_hash = Varchar(length=64, unique=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    purpose = Varchar(length=16)  # "invite" or "reset"
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class LoginFailure(Table, tablename="lw_login_failure"):
    """Failed logins per email and per address, for throttling."""

    key = Varchar(length=300, unique=True)
    failures = Integer(default=0)
    first_at = Timestamptz(default=TimestamptzNow())
    locked_until = Timestamptz(null=True, default=None)


class Worker(Table, tablename="lw_worker"):
    """A background worker's heartbeat: the health page calls a worker reachable while it beats."""

    name = Varchar(length=255, unique=True)
    pid = Integer(default=0)
    broker = Varchar(length=255, default="")
    started_at = Timestamptz(default=TimestamptzNow())
    seen_at = Timestamptz(default=TimestamptzNow())


class IdempotencyKey(Table, tablename="lw_idempotency_key"):
    """A client's `Idempotency-Key` on an API request that creates something, and the answer it
    got (app/idempotency.py): the same key again within 24 hours is answered from here. Unique per
    (user, key), a constraint in the migration; written in the transaction of the work it guards."""

    user = ForeignKey(User, on_delete=OnDelete.cascade)
    key = Varchar(length=255)
    request_hash = Varchar(length=64)  # SHA-256 of method, path, query and body
    status = Integer(default=0)  # the answer's HTTP status; 0 while a claimed request still runs
    response = Text(default="")  # the answer's JSON, byte for byte
    created_at = Timestamptz(default=TimestamptzNow())


class Webhook(Table, tablename="lw_webhook"):
    """Label Studio's webhook of a project (app/webhooks): where events are POSTed. `secret` signs
    every delivery and is shown once, when the webhook is made (or its secret rotated)."""

    project = ForeignKey(Project, on_delete=OnDelete.cascade, index=True)
    url = Varchar(length=2048)
    send_payload = Boolean(default=True)
    send_for_all_actions = Boolean(default=True)
    headers = JSONB(default={})
    is_active = Boolean(default=True)
    actions = JSONB(default=[])
    secret = Varchar(length=128, default="")
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class WebhookDelivery(Table, tablename="lw_webhook_delivery"):
    """One event for one webhook: the outbox row, written in the transaction of the change, and
    then the delivery's state. `uid` is sent as X-Labelwell-Delivery on every attempt."""

    webhook = ForeignKey(Webhook, on_delete=OnDelete.cascade)
    project = Integer()
    action = Varchar(length=64)
    uid = Varchar(length=64)
    body = Text()  # the JSON sent, built when the event happened
    state = Varchar(length=16, default="pending")  # pending, sending, delivered, failed
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    locked_until = Timestamptz(null=True, default=None)
    status_code = Integer(null=True, default=None)  # of the last attempt
    error = Text(default="")  # of the last attempt
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


class WebhookAttempt(Table, tablename="lw_webhook_attempt"):
    """One POST of a delivery: the delivery log."""

    delivery = ForeignKey(WebhookDelivery, on_delete=OnDelete.cascade, index=True)
    attempt = Integer()
    status_code = Integer(null=True, default=None)
    duration_ms = Integer(default=0)
    error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class ExportSnapshot(Table, tablename="lw_export"):
    """Label Studio's export snapshot: a JSON file of the project written by a job, then downloaded
    in any format. `job` is the job that writes it; each of `converted_formats` names the job that
    converted it (its status follows that job, so a crashed worker leaves it failed, never pending)."""

    project = ForeignKey(Project, on_delete=OnDelete.cascade, index=True)
    title = Varchar(length=2048, default="")
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
    status = Varchar(length=16, default="created")  # created, in_progress, completed, failed
    md5 = Varchar(length=32, default="")
    counters = JSONB(default={})
    converted_formats = JSONB(default=[])  # [{"id": job id, "export_type": "CSV"}]
    options = JSONB(default={})  # task_filter_options, annotation_filter_options, serialization_options
    params = JSONB(default={})  # the filters they make (app/data_export/schemas.py)
    job = Integer(null=True, default=None)


class View(Table, tablename="lw_view"):
    """A saved view: one of the data manager's tabs, its filters, ordering and columns as Label
    Studio's `data` (title, type, target, filters, ordering, hiddenColumns, …)."""

    project = ForeignKey(Project, on_delete=OnDelete.cascade)
    user = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    order = Integer(default=0)
    data = JSONB(default={})
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Storage(Table, tablename="lw_storage"):
    """A project's cloud (or local-files) storage, Label Studio's import ("source": sync makes tasks
    of its objects) or export ("target": every annotation is written to it) storage (app/storages).
    `config` holds Label Studio's fields for its kind (bucket, prefix, regex_filter, use_blob_urls,
    presign, presign_ttl, recursive_scan, region_name, s3_endpoint, path, can_delete_objects...);
    `secrets` its credentials, sealed with the instance's secret key (app/secret_box.py), never shown."""

    project = ForeignKey(Project, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=16)  # "import" or "export"
    kind = Varchar(length=16)  # "s3", "localfiles": a module in app/storages/kinds/
    title = Varchar(length=256, null=True, default=None)
    description = Text(null=True, default=None)
    config = JSONB(default={})
    secrets = Text(default="")
    synchronizable = Boolean(default=True)
    status = Varchar(length=32, default="initialized")  # initialized, queued, in_progress, completed, completed_with_errors, failed
    traceback = Text(null=True, default=None)
    meta = JSONB(default={})
    last_sync = Timestamptz(null=True, default=None)
    last_sync_count = Integer(null=True, default=None)
    last_sync_job = Varchar(length=64, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class StorageLink(Table, tablename="lw_storage_link"):
    """An object of an import storage that became a task: (storage, key, row_index) is unique, so a
    re-sync, or two at once, never makes the same task twice. row_index is the task's place in a
    JSON/JSONL task file (0 for a media object)."""

    storage = ForeignKey(Storage, on_delete=OnDelete.cascade)
    task = ForeignKey(Task, on_delete=OnDelete.cascade, index=True)
    key = Text()
    row_index = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class StorageExport(Table, tablename="lw_storage_export"):
    """An annotation an export storage must write (or remove): the outbox, one row per (storage,
    annotation), written in the transaction that changed the annotation (app/storages/outbox.py)
    and drained by the worker (app/storages/exporting.py), which writes what the annotation is
    then: a later change of the same annotation only makes its row due again."""

    storage = ForeignKey(Storage, on_delete=OnDelete.cascade)
    annotation = Integer()  # no foreign key: a deleted annotation's row says "remove its object"
    state = Varchar(length=16, default="pending")  # pending, done, failed
    attempts = Integer(default=0)
    generation = Integer(default=0)  # +1 on every change: a write marks done only what it saw
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    error = Text(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class BuiltinModel(Table, tablename="lw_builtin_model"):
    """A project's built-in model (app/learning): on or off, how many new or updated annotations
    start a training run, how many came since the last one, and the version predictions come from."""

    project = ForeignKey(Project, on_delete=OnDelete.cascade)  # unique (the migration's index)
    enabled = Boolean(default=False)
    train_every = Integer(default=20)
    pending = Integer(default=0)
    next_number = Integer(default=1)  # builtin-<n>: numbers are never reused, a failed run takes none
    active_version = Varchar(length=255, default="")
    message = Text(default="")  # why the last run did not train, in words for the Model page
    updated_at = Timestamptz(default=TimestamptzNow())


class ModelRun(Table, tablename="lw_model_run"):
    """A version the built-in model trained: written whole when the run ends, so a run killed
    midway leaves no version and the previous one stays active."""

    project = ForeignKey(Project, on_delete=OnDelete.cascade)
    number = Integer()
    version = Varchar(length=255)
    examples = Integer()  # the training set it learned from
    available = Integer()  # the annotated tasks there were (more than `examples` when sampled)
    seconds = DoublePrecision()
    quality = JSONB(default={})  # cross-validated, per control and label
    learned = JSONB(default=[])  # the controls it learned, with their labels
    model = Bytea()  # the fitted model, pickled: read only by workers and `labelwell model serve`
    created_at = Timestamptz(default=TimestamptzNow())
