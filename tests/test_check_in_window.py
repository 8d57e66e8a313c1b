"""One check-in window: the student's list (SQL) and the check-in itself (Python) agree."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.models import CHECK_IN_OPENS, ActivityStatus
from app.services import check_in
from app.services.errors import Conflict
from app.services.pages.student import open_check_ins
from app.timeutil import utcnow

MINUTE = timedelta(minutes=1)


@pytest.mark.parametrize(("starts_in", "open_"), [
    (CHECK_IN_OPENS + MINUTE, False),   # too early
    (CHECK_IN_OPENS - MINUTE, True),    # just opened
    (-timedelta(hours=2), True),        # under way (it lasts 3 hours)
    (-timedelta(hours=3) - MINUTE, False),  # over
])
def test_list_and_check_in_agree(make, session, starts_in, open_):
    w = make.world()
    activity = make.activity(w.club, status=ActivityStatus.APPROVED, starts_at=utcnow() + starts_in)
    student = w.students[0]
    listed = activity.id in {a.id for a in open_check_ins(session, student)}
    assert listed == open_ == activity.check_in_window_open(utcnow())
    code = check_in.venue_code(session, w.leader, activity.id).code
    if open_:
        assert check_in.check_in(session, student, activity.id, code).checked_in_at is not None
    else:
        with pytest.raises(Conflict):
            check_in.check_in(session, student, activity.id, code)
