"""Rate-distortion training of NLAIC with checkpoints that resume exactly.

A checkpoint holds the weights, the optimizer state, the step, the best
validation loss and, on one device, the tf.data iterator (whose randomness is
stateless per example), so a run killed at any point continues with the same
batches. Under a tf.distribute strategy (`TrainingOptions.strategy`) the data
position is instead a function of the step (`data.step_indexed_dataset`).
The rate level and noise of every example are drawn from (seed, example
index), so a step is the same on any number of devices. The best weights by
validation loss are kept separately in `<workdir>/best`. With
`TrainingOptions.weight_average` a moving average of the weights
(`WeightAverage`, in the checkpoint too) is what validation measures and
`best` keeps; the raw weights are measured beside it for comparison.

In a cluster only the chief writes to `workdir`; the other workers write
their (identical) checkpoints to temporary directories, as tf.distribute
requires every worker to save, and delete them.
"""
import contextlib
import dataclasses
import json
import math
import os
import shutil
import signal
import tempfile
import time

import tensorflow as tf

from nlaic_tf import data, zoo
from nlaic_tf.io.atomic import atomic_directory, atomic_write
from nlaic_tf.models import NLAIC, ModelConfig
from nlaic_tf.models.transfer import transfer_weights
from nlaic_tf.training.options import TrainingOptions
from nlaic_tf.training.distribute import is_chief, make_strategy
from nlaic_tf.training.precision import resolve_precision
from nlaic_tf.training import weight_average


class Trainer:
  """Owns the model, optimizer, data iterator and checkpoints of one run."""

  def __init__(self, model_config: ModelConfig, options: TrainingOptions):
    self.options = options
    if options.distortion:
      model_config = dataclasses.replace(model_config, distortion=options.distortion)
    self.model_config = model_config
    self.precision = resolve_precision(options.precision)
    self.strategy = make_strategy(options.strategy, options.devices)
    self.distributed = options.strategy != "default"
    if self.distributed and options.tfds_name:
      raise ValueError("--tfds_name cannot be used with a --strategy other than "
                       "default (its data position is not a function of the step)")
    self.chief = is_chief(self.strategy)
    # Where this process writes: workdir for the chief, else a temporary
    # directory (removed at the end of `run`).
    self.output_dir = options.workdir if self.chief else tempfile.mkdtemp()
    # Initial weights from the seed too, so that runs are reproducible (and
    # a resumed run can be compared with an uninterrupted one).
    tf.keras.utils.set_random_seed(options.seed)
    with self.strategy.scope():
      self._build_model_and_optimizer(model_config, options)
      self.average = None
      if options.weight_average:
        self.average = weight_average.WeightAverage(
            self.model.trainable_variables, options.weight_average)
    self.step = tf.Variable(0, dtype=tf.int64, trainable=False)
    self.best_val = tf.Variable(math.inf, dtype=tf.float32, trainable=False)
    self.crop_scale = data.CropScale(options.min_scale, options.max_scale,
                                     options.resize_filter)
    # On one device the tf.data iterator is checkpointed; under a strategy
    # the data of a run starts at its restored step (see `run`).
    self.iterator = None if self.distributed else iter(self._train_data())
    tracked = dict(model=self.model, optimizer=self.optimizer, step=self.step,
                   best_val=self.best_val)
    if self.iterator is not None:
      tracked["iterator"] = self.iterator
    if self.average is not None:
      tracked[weight_average.CHECKPOINT_KEY] = self.average
    self._tracked = tracked
    self.checkpoint = tf.train.Checkpoint(**tracked)
    os.makedirs(self.output_dir, exist_ok=True)
    self.manager = tf.train.CheckpointManager(
        self.checkpoint, os.path.join(self.output_dir, "checkpoints"),
        max_to_keep=2)
    self._train_fn = tf.function(self._replicated_step, autograph=False)
    self._stop = False
    # Steps behind the --init_from weights, kept in the workdir for resumes.
    self.steps_before = 0
    self._init_file = os.path.join(options.workdir, "init.json")

  def _build_model_and_optimizer(self, model_config, options):
    self.model = NLAIC(model_config, grad_clip=options.grad_clip,
                       level_balance=options.level_balance,
                       precision=self.precision)
    # The learning rate is a plain variable set from the options before every
    # step (see learning_rate), so checkpoints have one structure whatever the
    # schedule flags, and a run resumes with any new --lr/--lr_drops.
    # Not compiled: the model's checkpoints then hold its weights only.
    # float16 needs loss scaling; its optimizer wraps Adam, so checkpoints of
    # mixed_float16 runs differ in structure from float32 and bfloat16 ones
    # (which are interchangeable: same weights, same Adam).
    self.optimizer = tf.keras.optimizers.Adam(options.lr)
    if self.precision == "mixed_float16":
      self.optimizer = tf.keras.mixed_precision.LossScaleOptimizer(self.optimizer)
    self.model(tf.zeros([1, 64, 64, 3]), tf.zeros([1]))
    self.optimizer.build(self.model.trainable_variables)

  def _train_data(self):
    o = self.options
    kwargs = dict(crop=o.crop, batch_size=o.batch_size, seed=o.seed,
                  scale=self.crop_scale)
    if o.tfds_name:
      return data.tfds_training_dataset(o.tfds_name, **kwargs)
    return data.training_dataset(self._train_files(), **kwargs)

  def _train_files(self):
    files = data.image_files(self.options.train_glob)
    return data.area_weighted(files) if self.options.sample_by_area else files

  def _distributed_batches(self):
    """Iterator over this host's per-replica (indices, crops), from the
    current step on (`data.step_indexed_dataset`)."""
    o = self.options
    files = self._train_files()
    start = int(self.step)

    def dataset(context):
      return data.step_indexed_dataset(
          files, start, o.batch_size,
          context.get_per_replica_batch_size(o.batch_size),
          pipeline=context.input_pipeline_id,
          pipelines=context.num_input_pipelines,
          crop=o.crop, seed=o.seed, scale=self.crop_scale)
    return iter(self.strategy.distribute_datasets_from_function(dataset))

  def _next_batch(self, batches):
    """(indices of the examples, images) of the next training batch."""
    if batches is not None:
      return next(batches)
    # The one-device iterator enumerates examples from step 0 on.
    b = self.options.batch_size
    return (int(self.step) * b + tf.range(b, dtype=tf.int64),
            next(self.iterator))

  def _replicated_step(self, indices, x, flags):
    """One step on every replica: mean loss terms over the global batch, and
    `flags` [2] (stop requested, checkpoint due) summed over all replicas, so
    that every worker stops and saves after the same steps."""
    def step(indices, x, flags):
      seeds = tf.stack([tf.fill(tf.shape(indices), tf.constant(
          self.options.seed, tf.int64)), indices], axis=1)
      terms = self.model.rd_step(x, self.optimizer, seeds)
      if self.average is not None:
        self.average.update()
      replicas = tf.distribute.get_replica_context()
      # (identity: placed on this replica's device, as all_reduce needs)
      return terms, replicas.all_reduce(tf.distribute.ReduceOp.SUM,
                                        tf.identity(flags))
    terms, flags = self.strategy.run(step, args=(indices, x, flags))
    mean = tf.distribute.ReduceOp.MEAN
    terms = {k: self.strategy.reduce(mean, v, axis=None) for k, v in terms.items()}
    return terms, self.strategy.experimental_local_results(flags)[0]

  def learning_rate(self, step):
    """Learning rate for `step` (0-based, of this workdir): --lr times
    --lr_drop_factor per drop passed, times (step + 1) / --warmup_steps
    during the warm-up."""
    o = self.options
    drops = sum(step >= d for d in o.lr_drops)
    warmup = min(1., (step + 1) / o.warmup_steps) if o.warmup_steps else 1.
    return o.lr * o.lr_drop_factor ** drops * warmup

  def restore(self):
    """Resumes from the latest checkpoint, else initialises from `init_from`.

    The learning rate comes from the options, not the checkpoint.

    Returns a message saying what was restored.
    """
    latest = tf.train.latest_checkpoint(
        os.path.join(self.options.workdir, "checkpoints"))
    if latest:
      return self._resume(latest)
    if self.options.init_from:
      info = zoo.weights_info(self.options.init_from)
      self.steps_before = zoo.total_steps(info)
      if self.chief:
        with atomic_write(self._init_file, "w") as f:
          json.dump(dict(init_from=self.options.init_from,
                         steps_before=self.steps_before), f)
      source = zoo.recorded_config(info)
      if source is not None and source != self.model_config:
        return self._init_by_transfer(source)
      # Every model variable must come from the file (a SavedModel's
      # variables, train.py weights or a snapshot); other objects in it are
      # ignored.
      try:
        zoo.read_weights(self.model, self.options.init_from)
      except (AssertionError, ValueError) as e:
        raise ValueError(
            f"--init_from {self.options.init_from} does not hold every weight of "
            f"configuration {self.model_config.name!r}: {str(e)[:500]}") from None
      return f"initialised weights from {self.options.init_from}"
    return "started from scratch"

  def _resume(self, latest):
    """Restores the checkpoint `latest`, whether or not it holds a weight
    average: one is dropped without --weight_average, and one is started at
    this step when the checkpoint was written without it."""
    averaged = weight_average.in_checkpoint(latest)
    note = ""
    if self.average is not None and not averaged:
      objects = {k: v for k, v in self._tracked.items()
                 if k != weight_average.CHECKPOINT_KEY}
      tf.train.Checkpoint(**objects).restore(latest).assert_existing_objects_matched()
      note = "; the weight average starts here"
    else:
      status = self.checkpoint.restore(latest).assert_existing_objects_matched()
      if averaged and self.average is None:
        status.expect_partial()
        note = "; its weight average is dropped (--weight_average 0)"
    if self.chief:
      note += self._remeasure_best()
    if os.path.exists(self._init_file):
      with open(self._init_file) as f:
        self.steps_before = json.load(f)["steps_before"]
    return f"resumed {latest} at step {int(self.step)}{note}"

  def _init_by_transfer(self, source):
    """Initialises from weights trained with another configuration that
    differs in rate levels, rate conditioning, distortion or residual blocks
    added (`transfer_weights`)."""
    try:
      changes = transfer_weights(
          zoo.build_model(source, self.options.init_from), self.model)
    except ValueError as e:
      raise ValueError(f"--init_from {self.options.init_from}: {e}") from None
    return f"initialised weights from {self.options.init_from}, {changes}"

  def save(self):
    return self.manager.save(checkpoint_number=int(self.step))

  def validate(self):
    """Loss, bpp, PSNR (and MS-SSIM for MS-SSIM models) per rate level on the
    validation crops (rounding), the transforms' ceiling per level (PSNR
    without quantization, `NLAIC.ceiling_psnr`), and their loss averaged with
    the training's level weights (`RateDistortionLoss.average_levels`)."""
    o = self.options
    files = self._validation_files()
    sums = {}
    count = 0
    for x in data.validation_dataset(files, o.val_crop):
      count += int(x.shape[0])
      for level in range(self.model_config.num_levels):
        q = tf.fill([x.shape[0]], float(level))
        terms = self._eval_fn(x, q)
        for k, v in terms.items():
          sums[(level, k)] = sums.get((level, k), 0.) + float(tf.reduce_sum(v))
    reported = [k for k in ("loss", "bpp", "psnr", "ceiling", "ms_ssim")
                if (0, k) in sums]
    per_level = [{k: sums[(l, k)] / count for k in reported}
                 for l in range(self.model_config.num_levels)]
    return dict(loss=self.model.rd_loss.average_levels(
        [p["loss"] for p in per_level]), levels=per_level)

  def _validation_files(self):
    return data.image_files(self.options.val_glob)[:self.options.val_images]

  def _validation_set(self):
    """What the validation crops are cut from, as best/metrics.json records
    it: the images' file names and the crop size."""
    return dict(files=[os.path.basename(f) for f in self._validation_files()],
                crop=self.options.val_crop)

  @tf.function(autograph=False)
  def _eval_fn(self, x, q):
    return self.model.validation_terms(x, q)

  def save_best(self, val):
    """Writes the weights to `<workdir>/best` (atomically) with their metrics."""
    with atomic_directory(os.path.join(self.output_dir, "best")) as tmp:
      tf.train.Checkpoint(model=self.model).write(os.path.join(tmp, "weights"))
      with open(os.path.join(tmp, "metrics.json"), "w") as f:
        json.dump(dict(step=int(self.step),
                       total_steps=self.steps_before + int(self.step),
                       config=json.loads(self.model_config.to_json()),
                       validation=val, validation_set=self._validation_set()),
                  f, indent=1)

  def _remeasure_best(self):
    """Makes the best validation loss that steps must beat that of `best/`
    as this run measures it: its per-level losses weighed with this run's
    --level_balance, or none (the next validation replaces it) when best/
    was validated on other crops. Returns a note for the resume message."""
    path = os.path.join(self.output_dir, "best", "metrics.json")
    if not os.path.exists(path):
      return ""
    with open(path) as f:
      metrics = json.load(f)
    current = self._validation_set()
    if metrics.get("validation_set", current) != current:
      self.best_val.assign(math.inf)
      return ("; best/ was validated on other crops, so the next validation "
              "replaces it")
    val = metrics["validation"]
    loss = self.model.rd_loss.average_levels([l["loss"] for l in val["levels"]])
    self.best_val.assign(loss)  # (also if best/ was written after the checkpoint)
    if math.isclose(loss, val["loss"], rel_tol=1e-6):
      return ""
    return (f"; best/ weighed with this run's level balance: validation "
            f"loss {val['loss']:.4f} -> {loss:.4f}")

  def _log_history(self, record):
    with open(os.path.join(self.output_dir, "history.jsonl"), "a") as f:
      f.write(json.dumps(record) + "\n")

  def _request_stop(self, *_):
    self._stop = True

  def run(self, log=print):
    """Trains until `options.steps`, NaN, or SIGTERM/SIGINT (then checkpoints).

    A run that starts from `init_from` weights first validates them (step 0
    of history.jsonl, and the best weights until a step beats them).

    In a cluster every worker runs this; a signal to any of them stops all
    after the same step, with a checkpoint."""
    try:
      return self._run(log)
    finally:
      if not self.chief:
        shutil.rmtree(self.output_dir, ignore_errors=True)

  def _run(self, log):
    o = self.options
    log(self.restore())
    if self.average is not None and self.average.updates.numpy() == 0:
      self.average.restart()  # a new run, or a checkpoint written without it
    log(f"precision {self.precision}, strategy {o.strategy} with "
        f"{self.strategy.num_replicas_in_sync} replica(s)")
    batches = self._distributed_batches() if self.distributed else None
    writer = (tf.summary.create_file_writer(os.path.join(o.workdir, "tb"))
              if self.chief else tf.summary.create_noop_writer())
    if self.chief and o.init_from and int(self.step) == 0:
      # A run from other weights first validates those, so that its history
      # (and the best weights) starts from what it was given.
      self._validate_and_log(writer, log)
    nan_guard = tf.keras.callbacks.CallbackList(
        [tf.keras.callbacks.TerminateOnNaN()], model=self.model)
    previous = [signal.signal(s, self._request_stop)
                for s in (signal.SIGTERM, signal.SIGINT)]
    last_save = time.time()
    window_start, window_steps = time.time(), 0
    sums = {}
    stopping = False  # agreed by all workers
    try:
      while int(self.step) < o.steps and not stopping:
        self.optimizer.learning_rate.assign(self.learning_rate(int(self.step)))
        save_due = time.time() - last_save > 60 * o.checkpoint_minutes
        logs, flags = self._train_fn(*self._next_batch(batches), tf.constant(
            [self._stop, save_due], tf.float32))
        logs = {k: float(v) for k, v in logs.items()}
        stopping, save_due = (float(f) > 0 for f in flags)
        nan_guard.on_train_batch_end(int(self.step), logs)
        if self.model.stop_training:
          log(f"step {int(self.step)}: loss is {logs['loss']}; stopped "
              "without saving (resume restarts from the last checkpoint)")
          return dict(stopped="nan")
        self.step.assign_add(1)
        window_steps += 1
        for k, v in logs.items():
          sums[k] = sums.get(k, 0.) + v
        step = int(self.step)
        if step % o.log_every == 0:
          rate = window_steps / (time.time() - window_start)
          means = {k: v / window_steps for k, v in sums.items()}
          log(f"step {step}/{o.steps}  loss {means['loss']:.4f}  "
              f"bpp {means['bpp']:.4f}  psnr {means['psnr']:.2f}  "
              f"{rate:.2f} steps/s")
          with writer.as_default(step=step):
            for k, v in means.items():
              tf.summary.scalar(f"train/{k}", v)
            tf.summary.scalar("train/steps_per_s", rate)
            tf.summary.scalar("train/lr", self.learning_rate(step - 1))
          window_start, window_steps, sums = time.time(), 0, {}
        if self.chief and (step % o.val_every == 0 or step == o.steps):
          self._validate_and_log(writer, log)
        if save_due:
          self.save()
          last_save = time.time()
    finally:
      for s, handler in zip((signal.SIGTERM, signal.SIGINT), previous):
        signal.signal(s, handler)
    path = self.save()
    log(f"saved {path}")
    return dict(step=int(self.step), best_val=float(self.best_val))

  def _kept_weights(self):
    """Context in which the model holds the weights the run keeps: the
    average if there is one, else the raw weights."""
    if self.average is None:
      return contextlib.nullcontext()
    return self.average.swapped_in()

  def _validate_and_log(self, writer, log):
    start = time.time()
    with self._kept_weights():
      val = self._validate_and_save_best(writer)
    record = dict(step=int(self.step), time=time.time(), val_loss=val["loss"],
                  levels=val["levels"], best=val["best"])
    raw_note = ""
    if self.average is not None:
      raw = self.validate()
      record["raw"] = dict(val_loss=raw["loss"], levels=raw["levels"])
      raw_note = f", raw weights {raw['loss']:.4f}"
      with writer.as_default(step=record["step"]):
        tf.summary.scalar("val/raw_loss", raw["loss"])
    self._log_history(record)
    summary = "  ".join(
        f"L{l}: {t['bpp']:.3f}bpp/{t['psnr']:.2f}dB(<{t['ceiling']:.2f})"
        + (f"/{t['ms_ssim']:.4f}" if "ms_ssim" in t else "")
        for l, t in enumerate(val["levels"]))
    log(f"validation at step {record['step']}: loss {val['loss']:.4f}"
        f"{' (best)' if val['best'] else ''}{raw_note} "
        f"[{time.time() - start:.0f}s]  {summary}")

  def _validate_and_save_best(self, writer):
    """Validates the model's current weights, logs them to TensorBoard and
    writes them to `best` if they beat it; the `validate` dict with "best"."""
    val = self.validate()
    step = int(self.step)
    with writer.as_default(step=step):
      tf.summary.scalar("val/loss", val["loss"])
      for level, terms in enumerate(val["levels"]):
        for k, v in terms.items():
          tf.summary.scalar(f"val/level{level}/{k}", v)
      x = next(iter(data.validation_dataset(
          self._validation_files()[:1], self.options.val_crop)))
      for level in (0, self.model_config.num_levels - 1):
        x_hat = self.model(x, tf.fill([1], float(level)))["x_hat"]
        tf.summary.image(f"val/reconstruction_level{level}",
                         tf.clip_by_value(x_hat, 0., 1.))
    improved = val["loss"] < float(self.best_val)
    if improved:
      self.best_val.assign(val["loss"])
      self.save_best(val)
    return dict(val, best=improved)
