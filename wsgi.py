"""WSGI entry point: `gunicorn wsgi:app`, and where `flask` finds the app."""
import gc

from kyros_web import create_app

app = create_app()

# What the app has loaded lives as long as the worker: move it out of the way of the cyclic
# garbage collector, whose periodic full collections (every few dozen requests) would otherwise
# walk the ~120,000 objects of the loaded libraries each time (about 20 ms, more as requests
# add their own), and only what requests make is walked.
gc.collect()
gc.freeze()
# A page of figures makes tens of thousands of short-lived containers (the In season page
# by location some 40,000): at the default threshold of 700 the collector ran about 25 times
# per such request and, every few requests, a full collection of what the warm-up had cached,
# some 10 ms a request and 20–30 ms spikes. At 10,000 most of them are freed before a
# collection looks at them (docs/DECISIONS.md, grid edits: "The worker's collector").
gc.set_threshold(10_000, 10, 10)
