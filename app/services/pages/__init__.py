"""Read models of the pages: what each page shows, one module per page (or group of pages).

Plain functions taking (session, actor, ...). They never write. Each one checks, through
`permissions`, that the actor may see what it returns and raises `Forbidden` otherwise, so
the views stay free of rules; they also say which actions the viewer may take, so a page
only offers buttons whose service call would be allowed.

    common       paging, and who counts as a club's insider
    choices      the options of the forms' select boxes
    admin        the admin's home, units and clubs lists
    organizer    the organizer's home and the approval / sign-off queues
    leader       the club leader's home
    student      the student's home and the activities open for check-in
    club         a club's page
    activity     an activity's page, its recording and sign-off pages
    transcripts  the admin's transcript desk, a student's own transcripts
"""

from app.services.pages.common import PER_PAGE, Page

__all__ = ["PER_PAGE", "Page"]
