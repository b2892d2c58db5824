"""`flask kyros worker` needs a queue: without KYROS_REDIS_URL it says so and exits 1."""


def test_the_worker_without_a_queue_explains_itself(app):
    result = app.test_cli_runner().invoke(args=["kyros", "worker", "--burst"])
    assert result.exit_code == 1
    assert "KYROS_REDIS_URL is not set" in result.output
