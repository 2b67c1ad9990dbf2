"""Callbacks with Keras' names and hooks: History, ProgbarLogger, EarlyStopping, ModelCheckpoint,
TerminateOnNaN, ReduceLROnPlateau, LearningRateScheduler, LambdaCallback, CSVLogger,
PlotHistory (the training curves as a PNG, each epoch; needs bptt[plot]), GradientFlow
(the gradient through time on a fixed batch, recorded during fit) and HTMLReport (one HTML page
on the model at the end of fit; needs bptt[plot]). A callback
sees `self.model` and gets logs (a dict of floats) at each hook.

As in Keras 3: fit calls the train and epoch hooks, and the test hooks around its validation;
evaluate calls the test hooks (batch logs: the running loss and metrics); predict calls the
predict hooks (batch logs: {"outputs": that batch's predictions}). Setting model.stop_training,
model.stop_evaluating or model.stop_predicting from a hook ends that loop after the batch.

    base.py             Callback, CallbackList, History, ProgbarLogger, TerminateOnNaN
    monitor.py          EarlyStopping, ModelCheckpoint
    learning_rate.py    ReduceLROnPlateau, LearningRateScheduler
    lambda_callback.py  LambdaCallback          csv_logger.py  CSVLogger
    plot_history.py     PlotHistory             gradient_flow.py  GradientFlow
    html_report.py      HTMLReport
"""
from bptt.callbacks.base import (Callback, CallbackList, History, ProgbarLogger,
                                 TerminateOnNaN)
from bptt.callbacks.csv_logger import CSVLogger
from bptt.callbacks.gradient_flow import GradientFlow
from bptt.callbacks.html_report import HTMLReport
from bptt.callbacks.lambda_callback import LambdaCallback
from bptt.callbacks.learning_rate import LearningRateScheduler, ReduceLROnPlateau
from bptt.callbacks.monitor import EarlyStopping, ModelCheckpoint
from bptt.callbacks.plot_history import PlotHistory

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "TerminateOnNaN",
           "EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau", "LearningRateScheduler",
           "LambdaCallback", "CSVLogger", "PlotHistory", "GradientFlow", "HTMLReport"]


def __getattr__(name):
    from bptt import _missing

    _missing.refuse(__name__, "callbacks", name)
