"""Give every stored photo that has none its thumbnail (photos stored before thumbnails existed).

A management command rather than a data migration: it reads every photo from the storage backend
(possibly an object store, possibly many gigabytes), which a migration should not do inside a deploy's
schema change; it can run while the portal serves, be stopped and run again. Until a photo has its
thumbnail, its thumbnail URL answers with the photo itself, so nothing is broken meanwhile.

Idempotent: only rows with an empty ``thumbnail`` are touched, and each row is written with
``UPDATE … WHERE thumbnail = ''`` so two runs at once never give one photo two thumbnails (the
loser's file is deleted again).
"""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand

from incidents.attachments import thumbnail_of_stored
from incidents.models import Attachment


class Command(BaseCommand):
    help = "Make the thumbnail of every stored photo that has none (idempotent; safe to stop and rerun)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=200, help="photos read per database query (200)")

    def handle(self, *args, batch: int, **options):
        made = missing = unreadable = 0
        last_pk = 0
        storage = Attachment._meta.get_field("thumbnail").storage
        while True:
            rows = list(Attachment.objects.filter(thumbnail="", pk__gt=last_pk).order_by("pk")[:batch])
            if not rows:
                break
            for photo in rows:
                last_pk = photo.pk
                try:
                    with photo.file.open("rb") as handle:
                        content = handle.read()
                except FileNotFoundError:
                    missing += 1
                    continue
                try:
                    small = thumbnail_of_stored(content)
                except OSError:
                    unreadable += 1
                    continue
                name = storage.save(photo._meta.get_field("thumbnail").generate_filename(photo, "thumb.jpg"),
                                    ContentFile(small))
                won = Attachment.objects.filter(pk=photo.pk, thumbnail="").update(thumbnail=name,
                                                                                   thumbnail_size=len(small))
                if won:
                    made += 1
                else:
                    storage.delete(name)
        self.stdout.write(f"thumbnails made: {made}; photos missing from storage: {missing}; "
                          f"unreadable: {unreadable}")
