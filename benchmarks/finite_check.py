"""What fit's NaN / inf check costs bptt (bptt.models.finite): the tutorial model's training
step at batch 32 with the check on and off, alternating in one worker, and the check alone
timed on that step's gradients. The check's share of a step is its time over the step's
(median of the step times with the check off); the step-time ratio is printed beside it, but
a 2% difference is within the noise of steps timed apart, so the share is the figure."""
import statistics


def run(worker, settings, log=print):
    """{"on_ms": [...], "off_ms": [...], "check_us": ..., "share": ..., "step_ratio": ...}."""
    answer = worker.request("finite_check", **settings)
    off, on = statistics.median(answer["off_ms"]), statistics.median(answer["on_ms"])
    answer["share"] = answer["check_us"] / 1e3 / off
    answer["step_ratio"] = on / off
    log(f"  check {answer['check_us']:.0f} us a step, {100 * answer['share']:.2f}% of a "
        f"{off:.2f} ms step; steps with / without it: {on:.2f} / {off:.2f} ms "
        f"({answer['step_ratio']:.3f}x)")
    return answer


def markdown(result):
    return (f"NaN / inf check of each training step (batch 32): {result['check_us']:.0f} µs, "
            f"{100 * result['share']:.2f}% of a step (target < 2%); steps with / without it "
            f"{statistics.median(result['on_ms']):.2f} / "
            f"{statistics.median(result['off_ms']):.2f} ms")
