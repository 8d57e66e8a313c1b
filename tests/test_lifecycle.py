"""One table for the activity lifecycle: the page offers a step exactly when its service
call would be allowed, for every status and every kind of viewer."""

from __future__ import annotations

import pytest

from app.models import ActivityStatus
from app.services import activities, lifecycle
from app.services.errors import Conflict, Forbidden
from app.services.pages.activity import activity_actions

CALLS = {
    "edit": lambda s, who, aid: activities.update_activity(s, who, aid),
    "submit": lambda s, who, aid: activities.submit_activity(s, who, aid),
    "approve": lambda s, who, aid: activities.approve_activity(s, who, aid),
    "return": lambda s, who, aid: activities.return_activity(s, who, aid, "预算不清楚"),
    "complete": lambda s, who, aid: activities.complete_activity(s, who, aid),
    "cancel": lambda s, who, aid: activities.cancel_activity(s, who, aid, "场地冲突"),
}


def test_every_step_of_the_table_has_a_service():
    assert set(CALLS) == set(lifecycle.LIFECYCLE)


@pytest.mark.parametrize("status", list(ActivityStatus))
def test_the_page_offers_what_the_service_allows(make, session, status):
    w = make.world()
    viewers = {"leader": w.leader, "advisor": w.advisor, "admin": w.admin, "student": w.students[0]}
    for name, viewer in viewers.items():
        for action, call in CALLS.items():
            activity = make.activity(w.club, status=status)
            offered = action in activity_actions(session, viewer, activity)
            try:
                call(session, viewer, activity.id)
                allowed, error = True, None
            except (Forbidden, Conflict) as caught:
                session.rollback()
                allowed, error = False, caught
            assert offered == allowed, (name, action, status, error)
            if allowed:
                assert activity.status == lifecycle.LIFECYCLE[action].target


def test_wrong_state_is_409_and_wrong_person_is_403(make, session):
    w = make.world()
    done = make.activity(w.club, status=ActivityStatus.COMPLETED)
    with pytest.raises(Conflict):
        activities.submit_activity(session, w.leader, done.id)
    with pytest.raises(Forbidden):
        activities.submit_activity(session, w.advisor, done.id)
