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
