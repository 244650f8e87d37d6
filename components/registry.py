"""Tag name -> component class; Label Studio tags not supported yet are named, never dropped."""

from __future__ import annotations

from components.audio import Audio
from components.base import Component
from components.brush import Brush, BrushLabels
from components.chat import Chat
from components.choices import Choice, Choices
from components.date_time import DateTime
from components.header import Header
from components.hypertext import HyperText
from components.image import Image
from components.image_regions import (KeyPoint, KeyPointLabels, Polygon, PolygonLabels, Rectangle,
                                      RectangleLabels)
from components.labels import HyperTextLabels, Label, Labels, ParagraphLabels
from components.list import List
from components.number import Number
from components.ocr_labels import OcrLabels
from components.pairwise import Pairwise
from components.pdf import Pdf
from components.paragraphs import Paragraphs
from components.ranker import Bucket, Ranker
from components.rating import Rating
from components.relations import Relation, Relations
from components.style import Style
from components.table import Table
from components.taxonomy import Taxonomy
from components.text import Text
from components.textarea import TextArea
from components.time_series import Channel, TimeSeries
from components.time_series_labels import TimeSeriesLabels
from components.timeline_labels import TimelineLabels
from components.video import Video
from components.video_rectangle import VideoRectangle
from components.view import View

REGISTRY: dict[str, type[Component]] = {cls.tag: cls for cls in (
    View, Header, Style, Text, HyperText, Image, Paragraphs, Table,
    Labels, Label, HyperTextLabels, ParagraphLabels, Choices, Choice, TextArea, Rating, Number, DateTime,
    Taxonomy, RectangleLabels, Rectangle, PolygonLabels, Polygon, KeyPointLabels, KeyPoint, Pairwise,
    Relations, Relation, Audio, Video, VideoRectangle, TimelineLabels, List, Ranker, Bucket, Chat,
    TimeSeries, Channel, TimeSeriesLabels, BrushLabels, Brush, Pdf, OcrLabels,
)}
REGISTRY["AudioPlus"] = Audio  # Label Studio's older name for <Audio>: the same tag

# Label Studio tags that come later: a config using them gets a clear "not supported yet"
UNSUPPORTED = frozenset({
    "ChatMessage", "Markdown", "EllipseLabels", "Ellipse",
    "MagicWand", "BitmaskLabels", "Bitmask", "VectorLabels", "Vector",
    "VideoVector", "VideoVectorLabels", "Collapse", "Filter", "Repeater", "Shortcut", "ReactCode", "Object3D",
    "Cube", "Panel", "Dialog",
})
