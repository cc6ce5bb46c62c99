/* cohort-report.c: what a trainer sees of a cohort: PROGRESS (a row per
 * learner) and GRADES (CSV in the shape of Moodle's gradebook export). */
#include "campusd.h"

#include "cohort.h"

void cohort_report_progress(struct req *req, const char *id);
void cohort_report_grades(struct req *req, const char *id);

void cohort_report_progress(struct req *req, const char *id)
{
    req_reply(req, 501, "COHORT PROGRESS is not built yet");
}

void cohort_report_grades(struct req *req, const char *id)
{
    req_reply(req, 501, "COHORT GRADES is not built yet");
}

const struct api_route api_routes_cohort[] = {
    { NULL, NULL, NULL },
};
