"""What Salesforce's Data Export really writes: its CSV names, the objects it never
writes, and the columns that describe each binary file.

Measured on real export contents (see ``shared/SALESFORCE.md``, "What real exports
look like"): file names are not always API names, and objects that hold records in
every org (the org itself, profiles, sharing, code) get no CSV at all. A check that
took describe's ``replicateable`` at its word would call those "missing".
"""

from __future__ import annotations

import re

#: Objects whose records Data Export writes under another file name (the CSV's stem).
CSV_ALIASES: dict[str, tuple[str, ...]] = {
    # NewsFeed.csv holds every FeedItem (0D5 Ids); FeedPost.csv only some posts.
    "FeedItem": ("NewsFeed", "FeedPost"),
    "CaseHistory": ("CaseHistory2",),
}

#: Objects Data Export never writes, though they hold records in every org (several
#: are ``replicateable`` in describe). They are metadata, security, sharing, setup or
#: system data: a metadata retrieve backs up what of them can be backed up.
NEVER_EXPORTED = frozenset(
    {
        "ApexClass",
        "ApexComponent",
        "ApexPage",
        "ApexTrigger",
        "AsyncApexJob",
        "AuraDefinitionBundle",
        "BrandTemplate",
        "BusinessHours",
        "ContentDocument",
        "CronJobDetail",
        "CronTrigger",
        "CustomPermission",
        "Dashboard",
        "EmailServicesAddress",
        "EmailServicesFunction",
        "EmailTemplate",
        "FieldPermissions",
        "Folder",
        "Group",
        "GroupMember",
        "LightningComponentBundle",
        "LoginHistory",
        "LoginIp",
        "ObjectPermissions",
        "Organization",
        "OrgWideEmailAddress",
        "PermissionSet",
        "PermissionSetAssignment",
        "PermissionSetGroup",
        "PermissionSetGroupComponent",
        "PermissionSetLicense",
        "PermissionSetLicenseAssign",
        "Profile",
        "QueueSobject",
        "Report",
        "SetupAuditTrail",
        "SetupEntityAccess",
        "StaticResource",
        "UserLicense",
        "UserLogin",
        "UserPackageLicense",
    }
)
#: Name patterns of objects Data Export never writes as their own CSV: sharing rows,
#: field history (most of it; OpportunityHistory has its own CSV and is checked when
#: present), feeds, change events, custom metadata types and platform events.
NEVER_EXPORTED_PATTERN = re.compile(
    r"(Share|History|Feed|ChangeEvent|__mdt|__e|__b|__x|__Share|__History|__Feed)$"
)


#: Objects the pattern would catch that Data Export does write (measured in real
#: exports): their absence is a finding like any other object's.
EXPORTED = frozenset({"OpportunityHistory", *CSV_ALIASES})


def never_exported(name: str) -> bool:
    """True for an object a Data Export never writes as a CSV of its own."""
    if name in EXPORTED:
        return False
    return name in NEVER_EXPORTED or bool(NEVER_EXPORTED_PATTERN.search(name))


def csv_names(name: str) -> tuple[str, ...]:
    """The CSV stems that may hold ``name``'s records: its API name first."""
    return (name, *CSV_ALIASES.get(name, ()))


#: Binary folders of an export and the object whose rows their files belong to.
FILE_FOLDERS = {
    "attachments": "Attachment",
    "documents": "Document",
    "contentversion": "ContentVersion",
    "contentversions": "ContentVersion",
    "other uploaded collateral": "ContentBody",
}
FILE_OBJECTS = frozenset(FILE_FOLDERS.values())
#: The folder Data Export writes for each file object (for messages).
FOLDER_OF = {
    "Attachment": "Attachments",
    "Document": "Documents",
    "ContentVersion": "ContentVersion",
    "ContentBody": "Other Uploaded Collateral",
}
#: The column that states each file's size in bytes.
SIZE_COLUMNS = {
    "Attachment": "BodyLength",
    "Document": "BodyLength",
    "ContentVersion": "ContentSize",
}
#: The column that states each file's MD5 (hex).
HASH_COLUMNS = {"ContentBody": "Hash"}
#: File objects whose files are verified by checksum (so every file is read and hashed).
HASHED_OBJECTS = frozenset(HASH_COLUMNS)
