"""Editing what was reported, with the official client against a real `coordinator serve`:
observations updated and deleted (one, or all), suggestions' metadata updated, listings by
state, and DELETE of every suggestion as SigOpt does it (observations stay)."""

from __future__ import annotations

import pytest
from sigopt import Connection
from sigopt.exception import ApiException

from tests.integration.api_fixtures import *  # noqa: F403
from tests.integration.api_fixtures import ApiServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def experiment_with_observations(api: ApiServer, count: int, opened: int = 0):
    conn = Connection(client_token=api.token)
    conn.set_api_url(api.url)
    experiment = conn.experiments().create(
        name="edits", parameters=[{"name": "x", "type": "double", "bounds": {"min": 0, "max": 1}}],
        metrics=[{"name": "v"}], observation_budget=20)
    made = []
    for i in range(count + opened):
        s = conn.experiments(experiment.id).suggestions().create()
        if i < count:
            made.append(conn.experiments(experiment.id).observations().create(
                suggestion=s.id, value=float(i)))
    return conn, experiment, made


def ids(listing) -> list[str]:
    return [item.id for item in listing.iterate_pages()]


def test_observations_are_updated_and_deleted_and_the_counts_follow(api):
    conn, experiment, made = experiment_with_observations(api, 4)
    one = conn.experiments(experiment.id)
    updated = one.observations(made[0].id).update(value=9.5, metadata={"rerun": "yes"})
    assert updated.value == 9.5 and updated.metadata["rerun"] == "yes"
    assert one.observations(made[0].id).fetch().suggestion == made[0].suggestion
    assert one.best_assignments().fetch().data[0].value == 9.5  # the best follows the edit

    failed = one.observations(made[1].id).update(failed=True)
    assert failed.failed is True and failed.value is None
    assert one.fetch().progress.observation_count == 4
    with pytest.raises(ApiException) as caught:
        one.observations(made[1].id).update(failed=False)
    assert caught.value.status_code == 400 and "needs its value" in str(caught.value)
    again = one.observations(made[1].id).update(failed=False, value=1.5)
    assert again.failed is False and again.value == 1.5

    one.observations(made[2].id).delete()
    assert one.fetch().progress.observation_count == 3
    assert made[2].id not in ids(one.observations().fetch())
    with pytest.raises(ApiException) as caught:
        one.observations(made[2].id).fetch()
    assert caught.value.status_code == 404
    with pytest.raises(ApiException) as caught:
        one.observations(made[0].id).update(suggestion="5", values="many")
    assert caught.value.status_code == 400

    one.observations().delete()
    assert one.fetch().progress.observation_count == 0
    assert ids(one.observations().fetch()) == []
    assert len(ids(one.suggestions().fetch(state="closed"))) == 4  # suggestions stay closed


def test_suggestions_are_listed_by_state_updated_and_all_deleted_as_sigopt_does(api):
    conn, experiment, made = experiment_with_observations(api, 3, opened=2)
    one = conn.experiments(experiment.id)
    closed, still_open = ids(one.suggestions().fetch(state="closed")), \
        ids(one.suggestions().fetch(state="open"))
    assert sorted(closed) == sorted(o.suggestion for o in made) and len(still_open) == 2
    with pytest.raises(ApiException) as caught:
        one.suggestions().fetch(state="running")
    assert caught.value.status_code == 400

    updated = one.suggestions(still_open[0]).update(metadata={"host": "gpu-3"})
    assert updated.metadata["host"] == "gpu-3"
    assert one.suggestions(still_open[0]).fetch().metadata["host"] == "gpu-3"
    with pytest.raises(ApiException) as caught:
        one.suggestions(still_open[0]).update(assignments={"x": 0.5})
    assert caught.value.status_code == 400 and "assignments: cannot change" in str(caught.value)

    one.suggestions().delete(state="open")
    assert ids(one.suggestions().fetch(state="open")) == [] and len(ids(
        one.suggestions().fetch())) == 3
    one.suggestions().delete()  # no state: every suggestion, as SigOpt's
    assert ids(one.suggestions().fetch()) == []
    assert len(ids(one.observations().fetch())) == 3  # the observations stay
    assert one.fetch().progress.observation_count == 3
    assert one.suggestions().create().assignments["x"] >= 0  # and it goes on
